//! Card reader fakes: contact and contactless share one scripted APDU exchange.

use std::time::Duration;

use pos_hal::{
    Apdu, Atr, CancelToken, CardChannel, DeviceKind, ErrorKind, IccCaps, IccReader, PiccCaps,
    PiccReader, PollOutcome, Rapdu, TargetTypes,
};

use crate::{MockError, MockResult, Script, mock_device};

/// One expected APDU exchange: the exact command and its response (data + SW) or error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Expected encoded command APDU.
    pub command: Vec<u8>,
    /// Response bytes or error.
    pub response: MockResult<Vec<u8>>,
}

impl Exchange {
    fn answer<'r>(self, sent: &[u8], out: &'r mut [u8]) -> Result<MockResult<Rapdu<'r>>, Self> {
        if self.command != sent {
            return Err(self);
        }
        Ok(self.response.and_then(|bytes| {
            let dst = out
                .get_mut(..bytes.len())
                .ok_or(MockError(ErrorKind::Protocol))?;
            dst.copy_from_slice(&bytes);
            Rapdu::parse(dst).map_err(|_| MockError(ErrorKind::Protocol))
        }))
    }
}

fn encode(command: &Apdu<'_>) -> Vec<u8> {
    let mut bytes = vec![0; command.encoded_len()];
    match command.encode_into(&mut bytes) {
        Ok(n) => bytes.truncate(n),
        Err(e) => panic!("mock: the code under test built an invalid APDU: {e}"),
    }
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// An expected [`IccReader`] call.
#[derive(Debug)]
pub enum IccCall {
    /// `card_present()` returns this.
    CardPresent(MockResult<bool>),
    /// `wait_for_card()` returns this.
    WaitForCard(MockResult<()>),
    /// `power_on()` returns this.
    PowerOn(MockResult<Atr>),
    /// `transmit()` must send exactly this command.
    Transmit(Exchange),
    /// `power_off()` returns this.
    PowerOff(MockResult<()>),
}

impl IccCall {
    /// A successful exchange.
    pub fn transmit(command: &[u8], response: &[u8]) -> Self {
        IccCall::Transmit(Exchange {
            command: command.to_vec(),
            response: Ok(response.to_vec()),
        })
    }
}

/// A scripted contact reader.
#[derive(Debug)]
pub struct MockIccReader {
    script: Script<IccCall>,
}

impl MockIccReader {
    /// A reader that expects `calls` in order.
    pub fn new(calls: impl IntoIterator<Item = IccCall>) -> Self {
        Self {
            script: Script::new("MockIccReader", calls),
        }
    }
    /// Panics unless every expected call was made.
    pub fn done(&mut self) {
        self.script.done();
    }
}

mock_device!(MockIccReader, DeviceKind::ContactReader, "Mock ICC 00 00");

impl CardChannel for MockIccReader {
    fn transmit<'r>(&mut self, command: &Apdu<'_>, out: &'r mut [u8]) -> MockResult<Rapdu<'r>> {
        let sent = encode(command);
        let called = format!("transmit({})", hex(&sent));
        self.script.expect(&called, |c| match c {
            IccCall::Transmit(x) => x.answer(&sent, out).map_err(IccCall::Transmit),
            other => Err(other),
        })
    }
}

impl IccReader for MockIccReader {
    fn caps(&self) -> IccCaps {
        IccCaps::default()
    }
    fn card_present(&mut self) -> MockResult<bool> {
        self.script.expect("card_present()", |c| match c {
            IccCall::CardPresent(r) => Ok(r),
            other => Err(other),
        })
    }
    fn wait_for_card(&mut self, _timeout: Duration, cancel: &CancelToken) -> MockResult<()> {
        self.script
            .expect_wait(cancel, "wait_for_card()", |c| match c {
                IccCall::WaitForCard(r) => Ok(r),
                other => Err(other),
            })
    }
    fn power_on(&mut self) -> MockResult<Atr> {
        self.script.expect("power_on()", |c| match c {
            IccCall::PowerOn(r) => Ok(r),
            other => Err(other),
        })
    }
    fn power_off(&mut self) -> MockResult<()> {
        self.script.expect("power_off()", |c| match c {
            IccCall::PowerOff(r) => Ok(r),
            other => Err(other),
        })
    }
}

/// An expected [`PiccReader`] call.
#[derive(Debug)]
pub enum PiccCall {
    /// `poll()` must be asked for these types and returns this.
    Poll(TargetTypes, MockResult<PollOutcome>),
    /// `transmit()` must send exactly this command.
    Transmit(Exchange),
    /// `wait_for_removal()` returns this.
    WaitForRemoval(MockResult<()>),
    /// `deactivate()` returns this.
    Deactivate(MockResult<()>),
}

impl PiccCall {
    /// A successful exchange.
    pub fn transmit(command: &[u8], response: &[u8]) -> Self {
        PiccCall::Transmit(Exchange {
            command: command.to_vec(),
            response: Ok(response.to_vec()),
        })
    }
}

/// A scripted contactless reader.
#[derive(Debug)]
pub struct MockPiccReader {
    script: Script<PiccCall>,
}

impl MockPiccReader {
    /// A reader that expects `calls` in order.
    pub fn new(calls: impl IntoIterator<Item = PiccCall>) -> Self {
        Self {
            script: Script::new("MockPiccReader", calls),
        }
    }
    /// Panics unless every expected call was made.
    pub fn done(&mut self) {
        self.script.done();
    }
}

mock_device!(
    MockPiccReader,
    DeviceKind::ContactlessReader,
    "Mock PICC 00 00"
);

impl CardChannel for MockPiccReader {
    fn transmit<'r>(&mut self, command: &Apdu<'_>, out: &'r mut [u8]) -> MockResult<Rapdu<'r>> {
        let sent = encode(command);
        let called = format!("transmit({})", hex(&sent));
        self.script.expect(&called, |c| match c {
            PiccCall::Transmit(x) => x.answer(&sent, out).map_err(PiccCall::Transmit),
            other => Err(other),
        })
    }
}

impl PiccReader for MockPiccReader {
    fn caps(&self) -> PiccCaps {
        PiccCaps::default().with_activation_data(true)
    }
    fn poll(
        &mut self,
        types: TargetTypes,
        _: Duration,
        cancel: &CancelToken,
    ) -> MockResult<PollOutcome> {
        let called = format!("poll({types:?})");
        self.script.expect_wait(cancel, &called, |c| match c {
            PiccCall::Poll(expected, r) if expected == types => Ok(r),
            other => Err(other),
        })
    }
    fn wait_for_removal(&mut self, _: Duration, cancel: &CancelToken) -> MockResult<()> {
        self.script
            .expect_wait(cancel, "wait_for_removal()", |c| match c {
                PiccCall::WaitForRemoval(r) => Ok(r),
                other => Err(other),
            })
    }
    fn deactivate(&mut self) -> MockResult<()> {
        self.script.expect("deactivate()", |c| match c {
            PiccCall::Deactivate(r) => Ok(r),
            other => Err(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "expected Transmit")]
    fn wrong_apdu_fails_loudly() {
        let mut reader = MockIccReader::new([IccCall::transmit(&[0, 0xA4, 4, 0], &[0x90, 0])]);
        let mut buf = [0u8; 8];
        let _ = reader.transmit(&Apdu::new(0, 0xB2, 1, 0x0C), &mut buf);
    }

    #[test]
    #[should_panic(expected = "never made")]
    fn unused_expectations_fail_on_drop() {
        let _reader = MockIccReader::new([IccCall::PowerOff(Ok(()))]);
    }

    #[test]
    #[should_panic(expected = "expected Poll")]
    fn poll_for_other_types_fails() {
        let mut reader =
            MockPiccReader::new([PiccCall::Poll(TargetTypes::AB, Ok(PollOutcome::Nothing))]);
        let _ = reader.poll(TargetTypes::A, Duration::ZERO, &CancelToken::new());
    }

    #[test]
    fn cancelled_wait_answers_without_taking_an_expectation() {
        let mut reader = MockPiccReader::new([PiccCall::Deactivate(Ok(()))]);
        let token = CancelToken::new();
        token.cancel();
        let err = reader.poll(TargetTypes::AB, Duration::ZERO, &token);
        assert_eq!(err, Err(MockError(ErrorKind::Cancelled)));
        assert_eq!(reader.deactivate(), Ok(()));
    }
}
