//! The PN532 over its high-speed UART (HSU) as a [`PiccReader`]: wake-up and SAM
//! configuration, polling type A and B with bounded retries, ISO-DEP exchanges with MI
//! chaining, presence checks and release. Every wait is bounded by a deadline and a cancel
//! token; after a timeout the driver aborts the chip's command (ACK), discards what is in
//! flight and wakes the chip again before the next command, so a late answer is never taken
//! for the next one.

use core::fmt;
use core::time::Duration;

use embedded_io::{Read, ReadReady, Write};
use pos_hal::{
    Apdu, CancelToken, CardChannel, CardProtocol, Device, DeviceInfo, DeviceKind, ErrorKind,
    ErrorType, HealthLevel, HealthReport, HealthStatus, PiccCaps, PiccReader, PollOutcome, Rapdu,
    RfType, Target, TargetTypes, Uid,
};

use crate::frame::{self, Frame, FrameError, HOST_TO_PN532, PN532_TO_HOST};

/// A monotonic time source and a way to wait a little (a timer tick on an MCU, a short sleep
/// on a host).
pub trait Timer {
    /// Time since some fixed point.
    fn now(&mut self) -> Duration;
    /// Yields for a short while (about a millisecond) while waiting for bytes.
    fn pause(&mut self);
}

/// The largest C-APDU the PN532 carries in one InDataExchange (its 265-byte buffer minus
/// TFI, command and target number).
pub const MAX_COMMAND_APDU: usize = 262;

/// Commands (PN532 user manual §7).
mod cmd {
    pub const GET_FIRMWARE_VERSION: u8 = 0x02;
    pub const SAM_CONFIGURATION: u8 = 0x14;
    pub const RF_CONFIGURATION: u8 = 0x32;
    pub const IN_DATA_EXCHANGE: u8 = 0x40;
    pub const IN_COMMUNICATE_THRU: u8 = 0x42;
    pub const IN_LIST_PASSIVE_TARGET: u8 = 0x4A;
    pub const IN_RELEASE: u8 = 0x52;
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The serial port failed.
    Io(E),
    /// The chip did not answer in time (the command was aborted).
    Timeout,
    /// Cancelled through the token.
    Cancelled,
    /// The chip sent its error frame, a NACK, or an answer to another command.
    Protocol,
    /// The chip is not a PN532 (firmware version answer).
    NotPn532,
    /// The card left the field (status `01`/`29`/… of an exchange).
    CardRemoved,
    /// No card is activated.
    NoCard,
    /// A C-APDU over [`MAX_COMMAND_APDU`] bytes, or a response buffer too small.
    InvalidInput,
    /// The card or chip reported this status byte.
    Status(u8),
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "PN532 serial port: {e:?}"),
            Error::Timeout => f.write_str("PN532 did not answer in time"),
            Error::Cancelled => f.write_str("cancelled"),
            Error::Protocol => f.write_str("PN532 answered out of protocol"),
            Error::NotPn532 => f.write_str("the device is not a PN532"),
            Error::CardRemoved => f.write_str("card removed"),
            Error::NoCard => f.write_str("no card activated"),
            Error::InvalidInput => f.write_str("APDU too long for the PN532 or buffer too small"),
            Error::Status(s) => write!(f, "PN532 status {s:#04x}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E: embedded_io::Error> pos_hal::Error for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Io(e) => match e.kind() {
                embedded_io::ErrorKind::TimedOut => ErrorKind::Timeout,
                embedded_io::ErrorKind::NotConnected | embedded_io::ErrorKind::BrokenPipe => {
                    ErrorKind::Disconnected
                }
                _ => ErrorKind::Other,
            },
            Error::Timeout => ErrorKind::Timeout,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Protocol | Error::Status(_) => ErrorKind::Protocol,
            Error::NotPn532 => ErrorKind::NoDevice,
            Error::CardRemoved => ErrorKind::CardRemoved,
            Error::NoCard => ErrorKind::NoCard,
            Error::InvalidInput => ErrorKind::InvalidInput,
        }
    }
}

/// How long the driver waits for the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// For the ACK of a command.
    pub ack: Duration,
    /// For the answer of a quick command.
    pub command: Duration,
    /// For the answer of an exchange with the card (its frame waiting time and retries).
    pub exchange: Duration,
    /// Between two polls of an empty field.
    pub poll_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            ack: Duration::from_millis(100),
            command: Duration::from_millis(350),
            exchange: Duration::from_millis(1_500),
            poll_interval: Duration::from_millis(20),
        }
    }
}

/// A PN532 on a serial port.
pub struct Pn532<P, T> {
    port: P,
    timer: T,
    timing: Timing,
    rx: [u8; 2 * frame::MAX_FRAME],
    rx_len: usize,
    answer: [u8; frame::MAX_BODY],
    answer_len: usize,
    awake: bool,
    /// The last command ended with its answer and nothing after it: the stream holds
    /// nothing, so the next command need not drain it first (draining costs a wait).
    clean: bool,
    target: Option<u8>,
    firmware: [u8; 4],
    name: &'static str,
    selector: pos_hal::FixedStr<128>,
}

impl<P, T> fmt::Debug for Pn532<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pn532")
            .field("selector", &self.selector.as_str())
            .field("firmware", &self.firmware)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

type Res<T, P> = Result<T, Error<<P as embedded_io::ErrorType>::Error>>;

impl<P: Read + Write + ReadReady, T: Timer> Pn532<P, T> {
    /// Wakes the chip, configures the SAM for normal mode and checks the firmware.
    /// `selector` is what reopens it through the registry (`pn532:/dev/ttyUSB0`).
    pub fn open(port: P, timer: T, timing: Timing, selector: &str) -> Res<Self, P> {
        let mut pn = Self {
            port,
            timer,
            timing,
            rx: [0; 2 * frame::MAX_FRAME],
            rx_len: 0,
            answer: [0; frame::MAX_BODY],
            answer_len: 0,
            awake: false,
            clean: false,
            target: None,
            firmware: [0; 4],
            name: "PN532",
            selector: pos_hal::FixedStr::truncated(selector),
        };
        // The HSU wake-up is not always heard the first time (a chip still finishing what a
        // previous owner of the port asked, bytes on the line): wake it again, twice at most.
        let mut tries = 0;
        loop {
            match pn.firmware_version() {
                Ok(()) => break,
                Err(Error::Timeout | Error::Protocol) if tries < 2 => {
                    tries += 1;
                    pn.awake = false;
                    pn.discard_input()?;
                }
                Err(e) => return Err(e),
            }
        }
        // MaxRetries: ATR 0xFF, PSL 0x01, passive activation 0x02 — a poll of an empty field
        // answers "no target" at once instead of waiting for ever.
        pn.command(
            cmd::RF_CONFIGURATION,
            &[0x05, 0xFF, 0x01, 0x02],
            timing.command,
        )?;
        Ok(pn)
    }

    /// Gives the port back (the UART, or the I2C/SPI adapter holding the bus).
    pub fn release(self) -> P {
        self.port
    }

    /// The firmware version reported at open (`IC`, `Ver`, `Rev`, `Support`).
    pub fn firmware(&self) -> [u8; 4] {
        self.firmware
    }

    fn firmware_version(&mut self) -> Res<(), P> {
        let answer = self.command(cmd::GET_FIRMWARE_VERSION, &[], self.timing.command)?;
        let [ic, ver, rev, support] = answer else {
            return Err(Error::NotPn532);
        };
        if *ic != 0x32 {
            return Err(Error::NotPn532);
        }
        self.firmware = [*ic, *ver, *rev, *support];
        Ok(())
    }

    fn io<X>(r: Result<X, P::Error>) -> Res<X, P> {
        r.map_err(Error::Io)
    }

    fn write(&mut self, bytes: &[u8]) -> Res<(), P> {
        Self::io(self.port.write_all(bytes))?;
        Self::io(self.port.flush())
    }

    /// Drops whatever the chip sent that nobody asked for.
    fn discard_input(&mut self) -> Res<(), P> {
        self.rx_len = 0;
        let mut sink = [0u8; 64];
        while Self::io(self.port.read_ready())? {
            if Self::io(self.port.read(&mut sink))? == 0 {
                break;
            }
        }
        Ok(())
    }

    fn wake(&mut self) -> Res<(), P> {
        // HSU wake-up: a long preamble, then SAMConfiguration (normal mode) within 2 ms.
        let mut preamble = [0u8; 16];
        preamble[..2].copy_from_slice(&[0x55, 0x55]);
        self.write(&preamble)?;
        self.awake = true;
        self.command(
            cmd::SAM_CONFIGURATION,
            &[0x01, 0x14, 0x01],
            self.timing.command,
        )?;
        Ok(())
    }

    /// Reads until a whole frame is in; its body (for information frames) lands in
    /// `self.answer`.
    fn receive(&mut self, timeout: Duration) -> Res<Received, P> {
        let deadline = self.timer.now().saturating_add(timeout);
        loop {
            match frame::decode(&self.rx[..self.rx_len]) {
                Ok((frame, used)) => {
                    let got = match frame {
                        Frame::Ack => Received::Ack,
                        Frame::Nack => Received::Nack,
                        Frame::Error => Received::Error,
                        Frame::Info { tfi, body } => {
                            self.answer[..body.len()].copy_from_slice(body);
                            self.answer_len = body.len();
                            Received::Info(tfi)
                        }
                    };
                    self.rx.copy_within(used..self.rx_len, 0);
                    self.rx_len -= used;
                    return Ok(got);
                }
                Err(FrameError::Incomplete) => {}
                Err(
                    FrameError::LengthChecksum { skip }
                    | FrameError::DataChecksum { skip }
                    | FrameError::Length { skip },
                ) => {
                    let skip = skip.min(self.rx_len);
                    self.rx.copy_within(skip..self.rx_len, 0);
                    self.rx_len -= skip;
                    continue;
                }
                Err(FrameError::TooLong) => return Err(Error::Protocol),
            }
            if self.rx_len == self.rx.len() {
                // A stream that never forms a frame: keep only the tail.
                let keep = frame::MAX_FRAME;
                self.rx.copy_within(self.rx_len - keep..self.rx_len, 0);
                self.rx_len = keep;
            }
            if Self::io(self.port.read_ready())? {
                let n = Self::io(self.port.read(&mut self.rx[self.rx_len..]))?;
                self.rx_len += n;
                continue;
            }
            if self.timer.now() >= deadline {
                return Err(Error::Timeout);
            }
            self.timer.pause();
        }
    }

    /// Sends one command and returns its answer's data (after the command code).
    fn command(&mut self, code: u8, data: &[u8], timeout: Duration) -> Res<&[u8], P> {
        if !self.awake && code != cmd::SAM_CONFIGURATION {
            self.wake()?;
        }
        if !self.clean {
            self.discard_input()?;
        }
        self.clean = false;
        let mut body = [0u8; frame::MAX_BODY];
        let n = data.len() + 1;
        if n >= frame::MAX_BODY {
            return Err(Error::InvalidInput);
        }
        body[0] = code;
        body[1..n].copy_from_slice(data);
        let mut out = [0u8; frame::MAX_FRAME];
        let len =
            frame::encode(HOST_TO_PN532, &body[..n], &mut out).map_err(|_| Error::InvalidInput)?;
        self.write(&out[..len])?;
        match self.receive(self.timing.ack) {
            Ok(Received::Ack) => {}
            Ok(_) => return Err(self.resync(Error::Protocol)),
            Err(e) => return Err(self.resync(e)),
        }
        match self.receive(timeout) {
            Ok(Received::Info(PN532_TO_HOST))
                if self.answer_len >= 1 && self.answer[0] == code.wrapping_add(1) =>
            {
                self.clean = self.rx_len == 0;
                Ok(&self.answer[1..self.answer_len])
            }
            Ok(_) => Err(self.resync(Error::Protocol)),
            Err(e) => Err(self.resync(e)),
        }
    }

    /// After a fault: abort the chip's command, forget what is in flight and wake the chip
    /// before the next command.
    fn resync(&mut self, error: Error<P::Error>) -> Error<P::Error> {
        let _ = self.write(&frame::ACK);
        let _ = self.discard_input();
        self.awake = false;
        self.clean = false;
        self.target = None;
        error
    }

    fn list(&mut self, types: TargetTypes) -> Res<PollOutcome, P> {
        if types.admits(RfType::A) {
            let answer = self.command(
                cmd::IN_LIST_PASSIVE_TARGET,
                &[0x02, 0x00],
                self.timing.command,
            )?;
            match answer.first() {
                Some(0) | None => {}
                Some(1) => {
                    let target = type_a(&answer[1..]).ok_or(Error::Protocol)?;
                    self.target = Some(answer[1]);
                    return Ok(PollOutcome::Card(target));
                }
                Some(_) => {
                    let _ = self.command(cmd::IN_RELEASE, &[0x00], self.timing.command);
                    return Ok(PollOutcome::Collision);
                }
            }
        }
        if types.admits(RfType::B) {
            let answer = self.command(
                cmd::IN_LIST_PASSIVE_TARGET,
                &[0x01, 0x03, 0x00],
                self.timing.command,
            )?;
            if answer.first() == Some(&1) {
                let target = type_b(&answer[1..]).ok_or(Error::Protocol)?;
                self.target = Some(answer[1]);
                return Ok(PollOutcome::Card(target));
            }
        }
        Ok(PollOutcome::Nothing)
    }

    fn wait(&mut self, span: Duration, deadline: Duration, cancel: &CancelToken) -> Res<(), P> {
        let until = self.timer.now().saturating_add(span).min(deadline);
        while self.timer.now() < until {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            self.timer.pause();
        }
        Ok(())
    }
}

enum Received {
    Ack,
    Nack,
    Error,
    Info(u8),
}

fn type_a(t: &[u8]) -> Option<Target> {
    // Tg, SENS_RES (2), SEL_RES, NFCIDLength, NFCID1, [ATS with TL]
    let (atqa, sak, uid_len) = (
        [*t.get(1)?, *t.get(2)?],
        *t.get(3)?,
        usize::from(*t.get(4)?),
    );
    let uid = t.get(5..5 + uid_len)?;
    let protocol = if sak & 0x20 != 0 {
        CardProtocol::IsoDep
    } else if matches!(sak, 0x08 | 0x09 | 0x18 | 0x88) {
        CardProtocol::Mifare
    } else {
        CardProtocol::Other
    };
    let mut target = Target::new(RfType::A, protocol, Uid::new(uid).ok()?).with_type_a(atqa, sak);
    if let Some(ats) = t.get(5 + uid_len..).filter(|a| !a.is_empty()) {
        target = target.with_ats(ats).ok()?;
    }
    Some(target)
}

fn type_b(t: &[u8]) -> Option<Target> {
    // Tg, ATQB (12), ATTRIB_RES length, ATTRIB_RES
    let atqb = t.get(1..13)?;
    let pupi = atqb.get(1..5)?;
    Target::new(RfType::B, CardProtocol::IsoDep, Uid::new(pupi).ok()?)
        .with_atqb(atqb)
        .ok()
}

/// Status byte of an exchange: error code in bits 0–5, MI in bit 6.
fn status_error<E>(status: u8) -> Option<Error<E>> {
    match status & 0x3F {
        0x00 => None,
        // Timeout, CRC, parity, framing, anticollision, RF field, released, discarded: the
        // card is not (or no longer) there to answer.
        0x01..=0x07
        | 0x0A
        | 0x0B
        | 0x12
        | 0x13
        | 0x23
        | 0x25
        | 0x29
        | 0x2A
        | 0x2B
        | 0x2C
        | 0x2E => Some(Error::CardRemoved),
        0x27 => Some(Error::NoCard),
        other => Some(Error::Status(other)),
    }
}

impl<P: embedded_io::ErrorType, T> ErrorType for Pn532<P, T> {
    type Error = Error<P::Error>;
}

impl<P: Read + Write + ReadReady, T: Timer> CardChannel for Pn532<P, T> {
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, Self::Error> {
        let tg = self.target.ok_or(Error::NoCard)?;
        let mut data = [0u8; MAX_COMMAND_APDU + 1];
        data[0] = tg;
        let n = command
            .encode_into(&mut data[1..])
            .map_err(|_| Error::InvalidInput)?;
        let mut filled = 0;
        let mut request_len = n + 1;
        loop {
            let exchange = self.timing.exchange;
            let answer = self.command(cmd::IN_DATA_EXCHANGE, &data[..request_len], exchange)?;
            let (&status, chunk) = answer.split_first().ok_or(Error::Protocol)?;
            if let Some(e) = status_error(status) {
                self.target = None;
                return Err(e);
            }
            let dst = response
                .get_mut(filled..filled + chunk.len())
                .ok_or(Error::InvalidInput)?;
            dst.copy_from_slice(chunk);
            filled += chunk.len();
            if status & 0x40 == 0 {
                break;
            }
            // MI: the card has more; ask for it with an empty exchange.
            request_len = 1;
        }
        Rapdu::parse(&response[..filled]).map_err(|_| Error::Protocol)
    }
}

impl<P: Read + Write + ReadReady, T: Timer> Device for Pn532<P, T> {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            DeviceKind::ContactlessReader,
            "pn532",
            self.name,
            self.selector.as_str(),
        )
    }

    fn health_check(&mut self, _level: HealthLevel) -> Result<HealthReport, Self::Error> {
        Ok(match self.firmware_version() {
            Ok(()) => HealthReport::new(HealthLevel::Internal, HealthStatus::Ok, "PN532 answers"),
            Err(_) => HealthReport::new(
                HealthLevel::Internal,
                HealthStatus::Failed,
                "PN532 does not answer its firmware version",
            ),
        })
    }
}

impl<P: Read + Write + ReadReady, T: Timer> PiccReader for Pn532<P, T> {
    fn caps(&self) -> PiccCaps {
        PiccCaps::new(TargetTypes::AB, MAX_COMMAND_APDU).with_activation_data(true)
    }

    fn poll(
        &mut self,
        types: TargetTypes,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<PollOutcome, Self::Error> {
        let deadline = self.timer.now().saturating_add(timeout);
        // Field off and on: cards halted by an earlier release (or a collision) answer again.
        self.target = None;
        self.command(cmd::RF_CONFIGURATION, &[0x01, 0x00], self.timing.command)?;
        self.command(cmd::RF_CONFIGURATION, &[0x01, 0x01], self.timing.command)?;
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            match self.list(types)? {
                PollOutcome::Nothing => {}
                found => return Ok(found),
            }
            if self.timer.now() >= deadline {
                return Ok(PollOutcome::Nothing);
            }
            let interval = self.timing.poll_interval;
            self.wait(interval, deadline, cancel)?;
        }
    }

    fn wait_for_removal(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<(), Self::Error> {
        let deadline = self.timer.now().saturating_add(timeout);
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            // An R(NAK) block: any answer means the card is still there.
            let answer = self.command(cmd::IN_COMMUNICATE_THRU, &[0xB2], self.timing.command)?;
            if answer
                .first()
                .is_some_and(|s| status_error::<P::Error>(*s).is_some())
            {
                self.target = None;
                return Ok(());
            }
            if self.timer.now() >= deadline {
                return Err(Error::Timeout);
            }
            let interval = self.timing.poll_interval;
            self.wait(interval, deadline, cancel)?;
        }
    }

    fn deactivate(&mut self) -> Result<(), Self::Error> {
        self.target = None;
        self.command(cmd::IN_RELEASE, &[0x00], self.timing.command)?;
        Ok(())
    }
}
