//! # pos-io — std I/O shared by the POS drivers and simulators
//!
//! * [`Deadline`]: every blocking call in the workspace turns its `Duration` timeout into one
//!   of these; it saturates instead of overflowing.
//! * [`framed`]: one frame from a device that speaks when something happens (a swipe, a
//!   scan), with a deadline, cancellation and wiped buffers — the serial MSR and scanner.
//! * [`frame`]: the 2-byte big-endian length-prefixed framing of the CUP host link and the
//!   vpcd protocol, written once for the terminal, the host simulator and the virtual card.
//! * [`Transport`]: a byte pipe to a device where every call has a deadline, with
//!   [`FileTransport`] (device nodes, non-blocking + `poll`), and behind features
//!   [`tcp::TcpTransport`] (`tcp`), [`serial::SerialTransport`] and its builder (`serial`,
//!   needs libudev), [`usb::UsbBulk`] and USB enumeration with serial numbers (`usb`, needs
//!   libusb). Without `serial` and `usb` nothing here links a system library.

mod deadline;
mod file;
pub mod frame;
pub mod framed;
#[cfg(unix)]
pub mod pty;
#[cfg(feature = "serial")]
pub mod serial;
#[cfg(feature = "tcp")]
pub mod tcp;
mod transport;
#[cfg(feature = "usb")]
pub mod usb;

pub use deadline::Deadline;
pub use file::FileTransport;
pub use transport::{Transport, timed_out, write_by_deadline};
