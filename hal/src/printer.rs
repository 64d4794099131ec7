//! Receipt printers.

use crate::device::{DeviceInfo, HealthCheck};
use crate::error::ErrorType;
use crate::receipt::Receipt;

/// Paper sensor state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperState {
    /// Paper present.
    Ok,
    /// Paper near end.
    NearEnd,
    /// Out of paper.
    Out,
    /// The printer does not report it.
    Unknown,
}

/// What the printer says about itself (ESC/POS `DLE EOT`, or equivalent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterStatus {
    /// Ready to print.
    pub online: bool,
    /// Paper sensor.
    pub paper: PaperState,
    /// Cover open.
    pub cover_open: bool,
    /// Cash drawer open; `None` when not reported.
    pub drawer_open: Option<bool>,
}

impl PrinterStatus {
    /// True when a job can be started.
    pub fn ready(&self) -> bool {
        self.online && !self.cover_open && self.paper != PaperState::Out
    }
}

/// Character sets a printer supports, as bit flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Charsets(u8);

impl Charsets {
    /// ASCII / PC437.
    pub const ASCII: Self = Self(1);
    /// GB18030 / GBK (Chinese printers, `FS &`).
    pub const GB18030: Self = Self(2);
    /// Both.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
    /// True if all of `other` is supported.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// What a printer can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterCaps {
    /// Printable width in dots (384 for 58 mm, 576 for 80 mm).
    pub width_dots: u16,
    /// Characters per line in the normal font (32 or 48).
    pub columns: u8,
    /// Has a cutter.
    pub cutter: bool,
    /// Has a drawer kick-out connector.
    pub drawer: bool,
    /// Reports status (paper, cover) back.
    pub status: bool,
    /// Character sets.
    pub charsets: Charsets,
}

/// The outcome of a print job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobResult {
    /// Bytes sent to the printer.
    pub bytes_sent: usize,
    /// Status read after the job, when the printer reports one.
    pub status_after: Option<PrinterStatus>,
}

/// A receipt printer.
///
/// A job that ends in an error (paper out, cover open, disconnect) was **not** printed: the
/// caller reprints it.
pub trait ReceiptPrinter: ErrorType + HealthCheck {
    /// What the printer can do.
    fn caps(&self) -> PrinterCaps;
    /// Reads the current status.
    fn status(&mut self) -> Result<PrinterStatus, Self::Error>;
    /// Prints a receipt, checking status before and after.
    fn print(&mut self, receipt: &Receipt<'_>) -> Result<JobResult, Self::Error>;
    /// Pulses the cash drawer.
    fn open_drawer(&mut self) -> Result<(), Self::Error>;
    /// Identifies the device.
    fn info(&self) -> DeviceInfo;
}
