//! Receipt printers.

use crate::cancel::CancelToken;
use crate::device::Device;
use crate::receipt::Receipt;

/// Paper sensor state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
///
/// ```
/// use pos_hal::{PaperState, PrinterStatus};
/// let s = PrinterStatus::default().with_paper(PaperState::Out);
/// assert!(!s.ready());
/// assert!(PrinterStatus::default().ready());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

impl Default for PrinterStatus {
    /// Online, paper present, cover closed, drawer not reported.
    fn default() -> Self {
        Self {
            online: true,
            paper: PaperState::Ok,
            cover_open: false,
            drawer_open: None,
        }
    }
}

impl PrinterStatus {
    /// With the online flag given.
    pub const fn with_online(mut self, online: bool) -> Self {
        self.online = online;
        self
    }
    /// With the paper state given.
    pub const fn with_paper(mut self, paper: PaperState) -> Self {
        self.paper = paper;
        self
    }
    /// With the cover state given.
    pub const fn with_cover_open(mut self, open: bool) -> Self {
        self.cover_open = open;
        self
    }
    /// With the drawer state given.
    pub const fn with_drawer_open(mut self, open: Option<bool>) -> Self {
        self.drawer_open = open;
        self
    }

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
#[non_exhaustive]
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

impl Default for PrinterCaps {
    /// An 80 mm printer (576 dots, 48 columns) with cutter, drawer port and status, ASCII + GB18030.
    fn default() -> Self {
        Self {
            width_dots: 576,
            columns: 48,
            cutter: true,
            drawer: true,
            status: true,
            charsets: Charsets::ASCII.union(Charsets::GB18030),
        }
    }
}

impl PrinterCaps {
    /// A 58 mm printer (384 dots, 32 columns), otherwise as [`Default`].
    pub fn paper_58mm() -> Self {
        Self {
            width_dots: 384,
            columns: 32,
            ..Self::default()
        }
    }
    /// With the cutter/drawer/status flags given.
    pub const fn with_features(mut self, cutter: bool, drawer: bool, status: bool) -> Self {
        self.cutter = cutter;
        self.drawer = drawer;
        self.status = status;
        self
    }
    /// With the character sets given.
    pub const fn with_charsets(mut self, charsets: Charsets) -> Self {
        self.charsets = charsets;
        self
    }
}

/// The outcome of a print job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobResult {
    /// Bytes sent to the printer.
    pub bytes_sent: usize,
    /// Status read after the job, when the printer reports one.
    pub status_after: Option<PrinterStatus>,
}

impl JobResult {
    /// A job of `bytes_sent` bytes with the status read after it.
    pub const fn new(bytes_sent: usize, status_after: Option<PrinterStatus>) -> Self {
        Self {
            bytes_sent,
            status_after,
        }
    }
}

/// A receipt printer.
///
/// A job that ends in an error (paper out, cover open, disconnect, cancelled) was **not**
/// printed: the caller reprints it. `Ok` means the printer confirmed the end of this job.
pub trait ReceiptPrinter: Device {
    /// What the printer can do.
    fn caps(&self) -> PrinterCaps;
    /// Reads the current status; `cancel` stops the wait
    /// ([`Cancelled`](crate::ErrorKind::Cancelled)).
    fn status(&mut self, cancel: &CancelToken) -> Result<PrinterStatus, Self::Error>;
    /// Prints a receipt, checking status before and after; `cancel` stops the job between
    /// writes (then it is not printed).
    fn print(
        &mut self,
        receipt: &Receipt<'_>,
        cancel: &CancelToken,
    ) -> Result<JobResult, Self::Error>;
    /// Pulses the cash drawer.
    fn open_drawer(&mut self) -> Result<(), Self::Error>;
}

macro_rules! forward_printer {
    ($($ty:ty),*) => {$(
        impl<T: ReceiptPrinter + ?Sized> ReceiptPrinter for $ty {
            fn caps(&self) -> PrinterCaps {
                T::caps(self)
            }
            fn status(&mut self, cancel: &CancelToken) -> Result<PrinterStatus, Self::Error> {
                T::status(self, cancel)
            }
            fn print(&mut self, receipt: &Receipt<'_>, cancel: &CancelToken) -> Result<JobResult, Self::Error> {
                T::print(self, receipt, cancel)
            }
            fn open_drawer(&mut self) -> Result<(), Self::Error> {
                T::open_drawer(self)
            }
        }
    )*};
}
forward_printer!(&mut T);
#[cfg(feature = "alloc")]
forward_printer!(alloc::boxed::Box<T>);
