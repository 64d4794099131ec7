//! # pos-escpos — ESC/POS receipt printers
//!
//! Implements [`pos_hal::ReceiptPrinter`] for ESC/POS printers over TCP 9100, serial
//! ([`serialport`]), USB printer class ([`rusb`]) and device files (`/dev/usb/lp0`).
//!
//! * [`encode`] turns the HAL's device-neutral [`pos_hal::Receipt`] into ESC/POS, using the
//!   `escpos` crate for the commands it gets right, GB18030 + `FS &` for Chinese, display-width
//!   aware two-column layout, and our own bytes where the crate is wrong (the 5-byte drawer
//!   pulse `1B 70 00 19 FA`, CODE128).
//! * [`status`] decodes `DLE EOT 1/2/4` by bit masks into [`pos_hal::PrinterStatus`].
//! * [`EscposPrinter`] checks status before a job, writes it in chunks, then waits for the
//!   printer to reach the end of the job (`GS r 1` is answered only then); paper out or cover
//!   open on the way is an error and the job is reported **not printed**.
//!
//! ```no_run
//! use pos_escpos::{EscposPrinter, Profile};
//! use pos_hal::{CancelToken, ReceiptPrinter, Receipt, ReceiptLine, TextStyle, CutKind};
//!
//! let mut printer = EscposPrinter::open("tcp:192.168.1.50:9100", Profile::MM80)?;
//! let lines = [
//!     ReceiptLine::Text { text: "签购单 SALE", style: TextStyle::NORMAL.centered().bold() },
//!     ReceiptLine::Columns { left: "金额 AMOUNT", right: "RMB 50.00", style: TextStyle::NORMAL },
//!     ReceiptLine::Cut(CutKind::Partial),
//! ];
//! printer.print(&Receipt::new(&lines), &CancelToken::new())?;
//! # Ok::<(), pos_escpos::EscposError>(())
//! ```

#![warn(missing_docs)]

mod address;
pub mod encode;
mod error;
mod printer;
pub mod status;
pub mod transport;

pub use address::{DEFAULT_BAUD, PrinterAddress};
pub use encode::{DRAWER_PULSE, Profile, encode_receipt};
pub use error::EscposError;
pub use printer::{EscposPrinter, discover};
