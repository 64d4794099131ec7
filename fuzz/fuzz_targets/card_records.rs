//! The card reader's application/record loop (`read-card`) against a card whose every answer
//! comes from the fuzzer: it must end (capped records, no endless GET RESPONSE) with a result
//! or a typed error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_hal::{Apdu, Atr, CancelToken, CardChannel, Device, DeviceInfo, DeviceKind, ErrorKind, ErrorType, HealthLevel, HealthReport, HealthStatus, IccCaps, IccReader, Rapdu};

/// Answers each command with the next length-prefixed chunk of the fuzz input.
struct Card<'a> {
    input: &'a [u8],
    commands: usize,
}

impl ErrorType for Card<'_> {
    type Error = ErrorKind;
}

impl Device for Card<'_> {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(DeviceKind::ContactReader, "fuzz", "fuzz", "fuzz:card")
    }
    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, ErrorKind> {
        Ok(HealthReport::new(level, HealthStatus::Ok, "fuzz"))
    }
}

impl CardChannel for Card<'_> {
    fn transmit<'r>(&mut self, _: &Apdu<'_>, out: &'r mut [u8]) -> Result<Rapdu<'r>, ErrorKind> {
        self.commands += 1;
        assert!(self.commands < 10_000, "the reader kept sending commands");
        let (&len, rest) = self.input.split_first().ok_or(ErrorKind::CardRemoved)?;
        let n = usize::from(len).min(rest.len());
        let (answer, rest) = rest.split_at(n);
        self.input = rest;
        let dst = out.get_mut(..answer.len()).ok_or(ErrorKind::Protocol)?;
        dst.copy_from_slice(answer);
        Rapdu::parse(dst).map_err(|_| ErrorKind::Protocol)
    }
}

impl IccReader for Card<'_> {
    fn caps(&self) -> IccCaps {
        IccCaps::default()
    }
    fn card_present(&mut self) -> Result<bool, ErrorKind> {
        Ok(true)
    }
    fn wait_for_card(&mut self, _: std::time::Duration, _: &CancelToken) -> Result<(), ErrorKind> {
        Ok(())
    }
    fn power_on(&mut self) -> Result<Atr, ErrorKind> {
        Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01]).map_err(|_| ErrorKind::Protocol)
    }
    fn power_off(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut card = Card { input: data, commands: 0 };
    let _ = pos_examples::card_info::read(&mut card);
});
