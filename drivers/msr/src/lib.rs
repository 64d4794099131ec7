//! Magnetic stripe readers as pos-hal [`MagstripeReader`](pos_hal::MagstripeReader)s.
//!
//! - [`text`]: the swipe text of ISO 7811/7813 tracks split by sentinels, each track with its
//!   own status (so a misread track 1 with a good track 2 still pays);
//! - [`reports`]: MagTek (337 bytes), IDTech (9 + 500 bytes) and keyboard-wedge reports, both
//!   directions;
//! - [`serial`]: serial readers (`STX … ETX` or CR/LF framing) through pos-io;
//! - `usb` (feature `usb`): USB vendor-HID and keyboard-wedge readers through libusb;
//! - `hidraw` (Linux): vendor-HID readers on their hidraw node, the kernel driver left bound;
//! - `evdev` (Linux): keyboard wedges on their input nodes, grabbed so the tracks reach no
//!   other program.
//!
//! Track data never reaches `Debug` output or logs: the HAL's track types mask it, and
//! receive buffers are wiped after each swipe.

#[cfg(target_os = "linux")]
pub mod evdev;
#[cfg(target_os = "linux")]
pub mod hidraw;
pub mod reports;
pub mod serial;
pub mod text;
#[cfg(feature = "usb")]
pub mod usb;

pub use serial::{MsrError, SerialMsr, open_serial};
