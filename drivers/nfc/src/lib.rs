//! Contactless readers through libnfc (crate `nfc1`): any reader libnfc drives (PN532 on a
//! serial line, ACR122, PN533…) as a pos-hal [`PiccReader`].
//!
//! libnfc has traps that can kill the process or lie (notes/nfc-pn532.md); this driver checks
//! for them before and after every call:
//! - a C-APDU over 262 bytes overflows a stack buffer in libnfc (SIGABRT): refused here first;
//! - select and poll return `Ok` with an empty target when there is no card: an empty UID is
//!   "nothing";
//! - list returns as many targets as asked whatever it found: empty entries are dropped;
//! - a host timeout shorter than the chip's desynchronises the stream: exchanges use a timeout
//!   above the chip's, and after a timeout or an I/O error the device is closed and opened
//!   again before the next call;
//! - infinite select would block without bound: it is switched off, polls are loops of single
//!   selects with the cancel token checked between them;
//! - an answer whose status byte has NAD (bit 7) set makes libnfc `abort()`: a `pn532_uart:`
//!   device is reached through a relay on a pty that turns such an answer into an error
//!   ([`NfcError::BadAnswer`]) before libnfc sees it. (USB readers go through libusb inside
//!   libnfc, where no relay can sit; the trap remains for them.)
//!
//! `Context` and `Device` of nfc1 0.7 are `Send` (not `Sync`): the reader owns both (the
//! device is dropped first) and is used through `&mut`.
//!
//! ```no_run
//! use pos_hal::{CancelToken, PiccReader, TargetTypes};
//! let mut reader = pos_nfc::NfcReader::open("pn532_uart:/dev/ttyUSB0")?;
//! let found = reader.poll(TargetTypes::AB, std::time::Duration::from_secs(5), &CancelToken::new())?;
//! # Ok::<(), pos_nfc::NfcError>(())
//! ```

use std::time::{Duration, Instant};

mod relay;

use nfc1::target_info::TargetInfo;
use nfc1::{BaudRate, Modulation, ModulationType, Property, Timeout};
use pos_hal::{
    Apdu, CancelToken, CardChannel, CardProtocol, Device, DeviceInfo, DeviceKind, ErrorKind,
    ErrorType, HealthLevel, HealthReport, HealthStatus, PiccCaps, PiccReader, PollOutcome, Rapdu,
    RfType, Target, TargetTypes, Uid,
};

/// The largest C-APDU libnfc's PN53x path carries without overflowing its buffer.
pub const MAX_COMMAND_APDU: usize = 262;
/// The largest R-APDU libnfc returns.
const MAX_RESPONSE: usize = 263;

/// Why the reader failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NfcError {
    /// libnfc could not open the device.
    #[error("cannot open NFC device {connstring}: {source:?}")]
    Open {
        /// The connection string.
        connstring: String,
        /// libnfc's error.
        source: nfc1::Error,
    },
    /// A libnfc call failed.
    #[error("NFC {op}: {source:?}")]
    Libnfc {
        /// What was being done.
        op: &'static str,
        /// libnfc's error.
        source: nfc1::Error,
    },
    /// Cancelled through the token.
    #[error("cancelled")]
    Cancelled,
    /// The card did not leave in time.
    #[error("the card is still in the field")]
    StillPresent,
    /// No card is activated.
    #[error("no card activated")]
    NoCard,
    /// A C-APDU over [`MAX_COMMAND_APDU`] bytes (libnfc would abort the process), or a
    /// response buffer too small.
    #[error("APDU over {MAX_COMMAND_APDU} bytes, or response buffer too small")]
    InvalidInput,
    /// The card's answer is not an R-APDU.
    #[error("card answer shorter than a status word")]
    ShortAnswer,
    /// The reader answered with a status byte libnfc would have aborted the process on (NAD
    /// set); the relay turned it into this error.
    #[error("the reader sent an answer libnfc cannot take (status byte with NAD set)")]
    BadAnswer,
    /// The serial port of a `pn532_uart:` device could not be opened for the relay.
    #[error("cannot open the serial port {path}: {source}")]
    Port {
        /// The port.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl pos_hal::Error for NfcError {
    fn kind(&self) -> ErrorKind {
        use nfc1::Error as E;
        match self {
            NfcError::Open { .. } => ErrorKind::NoDevice,
            NfcError::Libnfc { source, .. } => match source {
                E::Timeout => ErrorKind::Timeout,
                E::RfTransmissionError | E::TargetReleased => ErrorKind::CardRemoved,
                E::OperationAborted => ErrorKind::Cancelled,
                E::NoDeviceFound | E::NoSuchDeviceFound => ErrorKind::NoDevice,
                E::Io => ErrorKind::Disconnected,
                E::InvalidArgument => ErrorKind::NoCard,
                E::DeviceNotSupported | E::NotImplemented => ErrorKind::NotSupported,
                _ => ErrorKind::Protocol,
            },
            NfcError::Cancelled => ErrorKind::Cancelled,
            NfcError::StillPresent => ErrorKind::Timeout,
            NfcError::NoCard => ErrorKind::NoCard,
            NfcError::InvalidInput => ErrorKind::InvalidInput,
            NfcError::ShortAnswer | NfcError::BadAnswer => ErrorKind::Protocol,
            NfcError::Port { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NoDevice,
                std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
                std::io::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
                _ => ErrorKind::Disconnected,
            },
        }
    }
}

/// The opened device and its context; the device is declared first so it drops first.
struct Open {
    device: nfc1::Device,
    _context: nfc1::Context,
}

/// A contactless reader through libnfc.
pub struct NfcReader {
    connstring: String,
    /// What libnfc opens: the connection string, or the relay's pty for `pn532_uart:`.
    libnfc_connstring: String,
    open: Option<Open>,
    active: bool,
    exchange_timeout: Duration,
    poll_interval: Duration,
    /// Declared last: dropped after the device, so libnfc never sees its pty vanish.
    relay: Option<relay::Relay>,
}

impl std::fmt::Debug for NfcReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NfcReader")
            .field("connstring", &self.connstring)
            .field("open", &self.open.is_some())
            .field("active", &self.active)
            .finish()
    }
}

const TYPE_A: Modulation = Modulation {
    modulation_type: ModulationType::Iso14443a,
    baud_rate: BaudRate::Baud106,
};
const TYPE_B: Modulation = Modulation {
    modulation_type: ModulationType::Iso14443b,
    baud_rate: BaudRate::Baud106,
};

fn libnfc(op: &'static str) -> impl FnOnce(nfc1::Error) -> NfcError {
    move |source| NfcError::Libnfc { op, source }
}

impl NfcReader {
    /// Opens the device named by a libnfc connection string (`pn532_uart:/dev/ttyUSB0`,
    /// `pn532_uart:/dev/ttyS1:115200`, `acr122_usb`…) and initialises it as an initiator.
    pub fn open(connstring: &str) -> Result<Self, NfcError> {
        let relay = match connstring.strip_prefix("pn532_uart:") {
            Some(rest) => {
                let (path, baud) = serial_path_and_baud(rest);
                Some(
                    relay::Relay::start(path, baud).map_err(|source| NfcError::Port {
                        path: path.to_string(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let libnfc_connstring = relay.as_ref().map_or_else(
            || connstring.to_string(),
            |r| format!("pn532_uart:{}", r.pty_path()),
        );
        let mut reader = Self {
            connstring: connstring.to_string(),
            libnfc_connstring,
            open: None,
            active: false,
            exchange_timeout: Duration::from_millis(1_500),
            poll_interval: Duration::from_millis(20),
            relay,
        };
        reader.device()?;
        Ok(reader)
    }

    /// The devices libnfc finds (needs the system libnfc with its configuration; the
    /// vendored build lists nothing).
    pub fn list() -> Result<Vec<String>, NfcError> {
        let mut context = nfc1::Context::new().map_err(libnfc("init"))?;
        context.list_devices(8).map_err(libnfc("list devices"))
    }

    fn device(&mut self) -> Result<&mut nfc1::Device, NfcError> {
        if self.open.is_none() {
            let mut context = nfc1::Context::new().map_err(libnfc("init"))?;
            let mut device = context
                .open_with_connstring(&self.libnfc_connstring)
                .map_err(|source| NfcError::Open {
                    connstring: self.connstring.clone(),
                    source,
                })?;
            device.initiator_init().map_err(libnfc("initiator init"))?;
            // Single selects only: an infinite select has no bound.
            device
                .set_property_bool(Property::InfiniteSelect, false)
                .map_err(libnfc("infinite select off"))?;
            self.open = Some(Open {
                device,
                _context: context,
            });
        }
        self.open
            .as_mut()
            .map(|o| &mut o.device)
            .ok_or(NfcError::NoCard)
    }

    /// After a timeout or an I/O error the PN53x stream may be out of step: close, so the
    /// next call opens (wake-up, flush) again.
    fn recover(&mut self, error: NfcError) -> NfcError {
        if let NfcError::Libnfc {
            source: nfc1::Error::Timeout | nfc1::Error::Io | nfc1::Error::Chip,
            ..
        } = &error
        {
            tracing::debug!(connstring = %self.connstring, "reopening the NFC device after {error}");
            self.open = None;
        }
        self.active = false;
        error
    }

    fn rewritten(&self) -> usize {
        self.relay.as_ref().map_or(0, relay::Relay::rewritten)
    }

    fn select_once(&mut self, types: TargetTypes) -> Result<PollOutcome, NfcError> {
        if types.admits(RfType::A) {
            let device = self.device()?;
            let listed = device
                .initiator_list_passive_targets(&TYPE_A, 2)
                .map_err(libnfc("list type A"));
            let found = match listed {
                Ok(list) => list.into_iter().filter(has_uid).count(),
                Err(e) => return Err(self.recover(e)),
            };
            if found > 1 {
                return Ok(PollOutcome::Collision);
            }
            if found == 1 {
                // Listing left the card halted: initiator_init cycles the field so it answers.
                let device = self.device()?;
                let selected = device
                    .initiator_init()
                    .and_then(|()| device.set_property_bool(Property::InfiniteSelect, false))
                    .and_then(|()| device.initiator_select_passive_target(&TYPE_A))
                    .map_err(libnfc("select type A"));
                match selected {
                    Ok(t) if has_uid(&t) => {
                        self.active = true;
                        return target_of(&t).map(PollOutcome::Card);
                    }
                    Ok(_) => {}
                    Err(e) => return Err(self.recover(e)),
                }
            }
        }
        if types.admits(RfType::B) {
            let selected = self
                .device()?
                .initiator_select_passive_target(&TYPE_B)
                .map_err(libnfc("select type B"));
            match selected {
                Ok(t) if has_uid(&t) => {
                    self.active = true;
                    return target_of(&t).map(PollOutcome::Card);
                }
                Ok(_) => {}
                Err(e) => return Err(self.recover(e)),
            }
        }
        Ok(PollOutcome::Nothing)
    }
}

/// `PATH[:BAUD]` of a `pn532_uart:` connection string (libnfc's syntax; 115200 by default).
fn serial_path_and_baud(rest: &str) -> (&str, u32) {
    match rest.rsplit_once(':') {
        Some((path, baud)) if !path.is_empty() => match baud.parse() {
            Ok(baud) => (path, baud),
            Err(_) => (rest, 115_200),
        },
        _ => (rest, 115_200),
    }
}

/// libnfc's "no target" is an `Ok` with a zeroed target: a real one has a UID/PUPI.
fn has_uid(t: &nfc1::Target) -> bool {
    match &t.target_info {
        TargetInfo::Iso14443a(a) => a.uid_len > 0,
        TargetInfo::Iso14443b(b) => b.pupi != [0; 4],
        _ => false,
    }
}

fn target_of(t: &nfc1::Target) -> Result<Target, NfcError> {
    match &t.target_info {
        TargetInfo::Iso14443a(a) => {
            let uid = a.uid.get(..a.uid_len).ok_or(NfcError::ShortAnswer)?;
            let protocol = if a.sak & 0x20 != 0 {
                CardProtocol::IsoDep
            } else if matches!(a.sak, 0x08 | 0x09 | 0x18 | 0x88) {
                CardProtocol::Mifare
            } else {
                CardProtocol::Other
            };
            let mut target = Target::new(
                RfType::A,
                protocol,
                Uid::new(uid).map_err(|_| NfcError::ShortAnswer)?,
            )
            .with_type_a(a.atqa, a.sak);
            if a.ats_len > 0 {
                // nfc1 gives the ATS without its TL byte: put it back.
                let mut ats = vec![(a.ats_len + 1) as u8];
                ats.extend_from_slice(a.ats.get(..a.ats_len).unwrap_or(&[]));
                target = target.with_ats(&ats).map_err(|_| NfcError::ShortAnswer)?;
            }
            Ok(target)
        }
        TargetInfo::Iso14443b(b) => {
            let mut atqb = vec![0x50];
            atqb.extend_from_slice(&b.pupi);
            atqb.extend_from_slice(&b.application_data);
            atqb.extend_from_slice(&b.protocol_info);
            Target::new(
                RfType::B,
                CardProtocol::IsoDep,
                Uid::new(&b.pupi).map_err(|_| NfcError::ShortAnswer)?,
            )
            .with_atqb(&atqb)
            .map_err(|_| NfcError::ShortAnswer)
        }
        _ => Err(NfcError::ShortAnswer),
    }
}

impl ErrorType for NfcReader {
    type Error = NfcError;
}

impl CardChannel for NfcReader {
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, NfcError> {
        if !self.active {
            return Err(NfcError::NoCard);
        }
        let mut raw = [0u8; MAX_COMMAND_APDU];
        let n = command
            .encode_into(&mut raw)
            .map_err(|_| NfcError::InvalidInput)?;
        let timeout = Timeout::Duration(self.exchange_timeout);
        let rewritten = self.rewritten();
        let answer = self
            .device()?
            .initiator_transceive_bytes(&raw[..n], MAX_RESPONSE, timeout)
            .map_err(libnfc("exchange"));
        let answer = match answer {
            Ok(a) => a,
            Err(e) if self.rewritten() > rewritten => {
                let _ = self.recover(e);
                self.open = None;
                return Err(NfcError::BadAnswer);
            }
            Err(e) => return Err(self.recover(e)),
        };
        let out = response
            .get_mut(..answer.len())
            .ok_or(NfcError::InvalidInput)?;
        out.copy_from_slice(&answer);
        Rapdu::parse(out).map_err(|_| NfcError::ShortAnswer)
    }
}

impl Device for NfcReader {
    fn info(&self) -> DeviceInfo {
        let name = self
            .open
            .as_ref()
            .map_or("libnfc device", |o| o.device.name());
        DeviceInfo::new(
            DeviceKind::ContactlessReader,
            "nfc",
            name,
            &format!("nfc:{}", self.connstring),
        )
    }

    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, NfcError> {
        Ok(match self.device().map(|d| d.get_information_about()) {
            Ok(Ok(_)) => HealthReport::new(level, HealthStatus::Ok, "libnfc device answers"),
            _ => HealthReport::new(level, HealthStatus::Failed, "libnfc device does not answer"),
        })
    }
}

impl PiccReader for NfcReader {
    fn caps(&self) -> PiccCaps {
        PiccCaps::new(TargetTypes::AB, MAX_COMMAND_APDU).with_activation_data(true)
    }

    fn poll(
        &mut self,
        types: TargetTypes,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<PollOutcome, NfcError> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if cancel.is_cancelled() {
                return Err(NfcError::Cancelled);
            }
            match self.select_once(types)? {
                PollOutcome::Nothing => {}
                found => return Ok(found),
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(PollOutcome::Nothing);
            }
            std::thread::sleep(self.poll_interval);
        }
    }

    fn wait_for_removal(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<(), NfcError> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if cancel.is_cancelled() {
                return Err(NfcError::Cancelled);
            }
            let present = self.device()?.initiator_target_is_present_any();
            match present {
                Ok(()) => {}
                Err(
                    nfc1::Error::TargetReleased
                    | nfc1::Error::RfTransmissionError
                    | nfc1::Error::InvalidArgument,
                ) => {
                    self.active = false;
                    return Ok(());
                }
                Err(e) => {
                    return Err(self.recover(NfcError::Libnfc {
                        op: "presence",
                        source: e,
                    }));
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(NfcError::StillPresent);
            }
            std::thread::sleep(self.poll_interval);
        }
    }

    fn deactivate(&mut self) -> Result<(), NfcError> {
        self.active = false;
        let result = self
            .device()?
            .initiator_deselect_target()
            .map_err(libnfc("deselect"));
        result.map_err(|e| self.recover(e))
    }
}
