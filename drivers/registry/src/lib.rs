//! # pos-devices — one selector string opens any device
//!
//! The probe-rs pattern for POS peripherals: every driver crate contributes a [`Driver`]
//! (its selector syntax, what it can list, and typed openers); this crate keeps the static list
//! (one cargo feature per driver) and hands out erased devices —
//! `Box<dyn IccReader<Error = DynError>>` and friends — whose errors keep their
//! [`ErrorKind`](pos_hal::ErrorKind) and the driver's error as source.
//!
//! | selector | device |
//! |---|---|
//! | `pcsc:<exact reader name>` / `pcsc:~<part of the name>` | PC/SC contact or contactless reader |
//! | `escpos:tcp:HOST:PORT` | network receipt printer |
//! | `escpos:serial:PATH[:BAUD[:rtscts]]` | serial receipt printer |
//! | `escpos:usb:[VID:PID[:SERIAL]]` | USB receipt printer (empty: the first one) |
//! | `escpos:file:PATH` | `/dev/usb/lp0` or a capture file |
//!
//! | `pn532:PATH[:BAUD]` | PN532 contactless reader on a serial line (built-in driver) |
//! | `nfc:<libnfc connstring>` | any contactless reader libnfc drives |
//! | `msr:serial:…`, `msr:usb:…`, `msr:wedge:…`, `msr:hidraw:…`, `msr:evdev:…` | magstripe readers |
//! | `scanner:serial:PATH[:BAUD]` | code scanner (customers' payment codes) |
//!
//! ```no_run
//! use pos_hal::{CancelToken, ReceiptPrinter, Receipt, ReceiptLine};
//! let mut printer = pos_devices::open_printer("escpos:tcp:127.0.0.1:9100")?;
//! printer.print(&Receipt::new(&[ReceiptLine::text("hello")]), &CancelToken::new())?;
//! for found in pos_devices::list() {
//!     println!("{} {}", found.info.selector, found.info.name);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod erased;
mod error;
mod selector;

#[cfg(feature = "escpos")]
mod escpos;
#[cfg(feature = "msr")]
mod msr;
#[cfg(feature = "nfc")]
mod nfc;
#[cfg(feature = "pcsc")]
mod pcsc;
#[cfg(feature = "pn532")]
mod pn532;
#[cfg(feature = "scanner")]
mod scanner;

pub use erased::{
    DriverError, DynCodeScanner, DynIccReader, DynMagstripeReader, DynPiccReader, DynPrinter,
    Erased,
};
pub use error::{DeviceError, DynError};
pub use selector::DeviceSelector;

use pos_hal::DeviceInfo;

/// How to open a printer, beyond its selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrinterOptions {
    /// Paper width in millimetres (58 or 80).
    pub paper_mm: u8,
}

impl Default for PrinterOptions {
    /// 58 mm paper, the common POS width.
    fn default() -> Self {
        Self { paper_mm: 58 }
    }
}

impl PrinterOptions {
    /// With the paper width given.
    pub const fn with_paper_mm(mut self, paper_mm: u8) -> Self {
        self.paper_mm = paper_mm;
        self
    }
}

/// A device a driver found, with what the driver can say about its state.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Listing {
    /// Identity and the selector that opens it.
    pub info: DeviceInfo,
    /// Driver-specific state (`"card present"`, `"empty"`, `"ready"`), when known.
    pub state: Option<String>,
}

impl Listing {
    /// A listing.
    pub fn new(info: DeviceInfo, state: Option<String>) -> Self {
        Self { info, state }
    }
}

/// What the `devices --json` line of a listing holds.
#[derive(Debug, serde::Serialize)]
pub struct ListingJson<'a> {
    /// Selector that reopens it.
    pub selector: &'a str,
    /// Driver name.
    pub driver: &'a str,
    /// Device kind (`contact-reader`, `printer`…).
    pub kind: &'static str,
    /// Human-readable name.
    pub name: &'a str,
    /// State, when known.
    pub state: Option<&'a str>,
}

impl Listing {
    /// The JSON shape of this listing.
    pub fn json(&self) -> ListingJson<'_> {
        ListingJson {
            selector: self.info.selector.as_str(),
            driver: self.info.driver,
            kind: self.info.kind.as_str(),
            name: self.info.name.as_str(),
            state: self.state.as_deref(),
        }
    }
}

/// One driver of the registry. A new driver crate adds one of these (and a cargo feature).
///
/// Openers a driver does not support keep their default: a [`DeviceError::WrongKind`].
pub trait Driver: Sync {
    /// The selector prefix (`"pcsc"`).
    fn name(&self) -> &'static str;
    /// The selector syntax after the prefix, for help texts.
    fn syntax(&self) -> &'static str;
    /// Checks the part after `name:`; `Err` names what is wrong.
    fn check(&self, selector: &DeviceSelector) -> Result<(), DeviceError>;
    /// The devices this driver can see now.
    fn list(&self) -> Result<Vec<Listing>, DeviceError>;
    /// Opens a contact reader.
    fn open_icc(&self, selector: &DeviceSelector) -> Result<DynIccReader, DeviceError> {
        Err(wrong_kind(selector, "contact card reader"))
    }
    /// Opens a contactless reader.
    fn open_picc(&self, selector: &DeviceSelector) -> Result<DynPiccReader, DeviceError> {
        Err(wrong_kind(selector, "contactless card reader"))
    }
    /// Opens a receipt printer.
    fn open_printer(
        &self,
        selector: &DeviceSelector,
        _options: &PrinterOptions,
    ) -> Result<DynPrinter, DeviceError> {
        Err(wrong_kind(selector, "receipt printer"))
    }
    /// Opens a magstripe reader.
    fn open_magstripe(&self, selector: &DeviceSelector) -> Result<DynMagstripeReader, DeviceError> {
        Err(wrong_kind(selector, "magstripe reader"))
    }
    /// Opens a code scanner.
    fn open_scanner(&self, selector: &DeviceSelector) -> Result<DynCodeScanner, DeviceError> {
        Err(wrong_kind(selector, "code scanner"))
    }
}

fn wrong_kind(selector: &DeviceSelector, wanted: &'static str) -> DeviceError {
    DeviceError::WrongKind {
        selector: selector.to_string(),
        wanted,
    }
}

/// The drivers built into this binary, in listing order.
pub fn drivers() -> &'static [&'static dyn Driver] {
    &[
        #[cfg(feature = "pcsc")]
        &pcsc::PcscDriver,
        #[cfg(feature = "escpos")]
        &escpos::EscposDriver,
        #[cfg(feature = "pn532")]
        &pn532::Pn532Driver,
        #[cfg(feature = "nfc")]
        &nfc::NfcDriver,
        #[cfg(feature = "msr")]
        &msr::MsrDriver,
        #[cfg(feature = "scanner")]
        &scanner::ScannerDriver,
    ]
}

fn driver_for(selector: &DeviceSelector) -> Result<&'static dyn Driver, DeviceError> {
    drivers()
        .iter()
        .copied()
        .find(|d| d.name() == selector.driver())
        .ok_or_else(|| DeviceError::UnknownDriver {
            selector: selector.to_string(),
            driver: selector.driver().to_string(),
            known: drivers()
                .iter()
                .map(|d| d.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Parses a selector and has its driver check it.
///
/// ```
/// # #[cfg(feature = "escpos")] {
/// assert!(pos_devices::parse("escpos:tcp:printer.lan:9100").is_ok());
/// assert!(pos_devices::parse("escpos:tcp:printer.lan").is_err());
/// assert!(pos_devices::parse("lpt:1").is_err());
/// # }
/// ```
pub fn parse(text: &str) -> Result<DeviceSelector, DeviceError> {
    let selector: DeviceSelector = text.parse()?;
    driver_for(&selector)?.check(&selector)?;
    Ok(selector)
}

/// Every device every driver sees. A driver whose stack is missing (pcscd not running) is
/// logged and skipped, so that the others still list.
pub fn list() -> Vec<Listing> {
    let mut all = Vec::new();
    for driver in drivers() {
        match driver.list() {
            Ok(found) => all.extend(found),
            Err(e) => tracing::warn!(driver = driver.name(), error = %e, "cannot list devices"),
        }
    }
    all
}

/// Opens a contact reader by selector (`pcsc:~ACR1252`).
pub fn open_icc(selector: &str) -> Result<DynIccReader, DeviceError> {
    let s = parse(selector)?;
    driver_for(&s)?.open_icc(&s)
}

/// Opens a contactless reader by selector.
pub fn open_picc(selector: &str) -> Result<DynPiccReader, DeviceError> {
    let s = parse(selector)?;
    driver_for(&s)?.open_picc(&s)
}

/// Opens a receipt printer by selector (`escpos:tcp:HOST:9100`), 58 mm paper.
pub fn open_printer(selector: &str) -> Result<DynPrinter, DeviceError> {
    open_printer_with(selector, &PrinterOptions::default())
}

/// Opens a receipt printer by selector with options.
pub fn open_printer_with(
    selector: &str,
    options: &PrinterOptions,
) -> Result<DynPrinter, DeviceError> {
    let s = parse(selector)?;
    driver_for(&s)?.open_printer(&s, options)
}

/// Opens a magstripe reader by selector.
pub fn open_magstripe(selector: &str) -> Result<DynMagstripeReader, DeviceError> {
    let s = parse(selector)?;
    driver_for(&s)?.open_magstripe(&s)
}

/// Opens a code scanner by selector (`scanner:serial:/dev/ttyACM0`).
pub fn open_scanner(selector: &str) -> Result<DynCodeScanner, DeviceError> {
    let s = parse(selector)?;
    driver_for(&s)?.open_scanner(&s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_hal::{Error as _, ErrorKind};

    #[test]
    fn an_unknown_driver_is_invalid_input_naming_the_selector() {
        let err = open_icc("nosuch:reader").err().expect("unknown");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("nosuch:reader"), "{err}");
    }

    #[cfg(feature = "escpos")]
    #[test]
    fn a_printer_selector_is_not_a_card_reader() {
        let err = open_icc("escpos:tcp:127.0.0.1:9")
            .err()
            .expect("wrong kind");
        assert_eq!(err.kind(), ErrorKind::NotSupported);
    }

    #[cfg(feature = "escpos")]
    #[test]
    fn a_refused_connection_keeps_its_kind_and_source() {
        // Port 9 on loopback: nothing listens, the connection is refused at once.
        let err = open_printer("escpos:tcp:127.0.0.1:9")
            .err()
            .expect("refused");
        assert_eq!(err.kind(), ErrorKind::NoDevice);
        assert!(
            err.to_string().starts_with("escpos:tcp:127.0.0.1:9"),
            "{err}"
        );
        assert!(std::error::Error::source(&err).is_some());
    }
}
