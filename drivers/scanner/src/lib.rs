//! Code scanners as pos-hal [`CodeScanner`](pos_hal::CodeScanner)s.
//!
//! - [`serial`]: serial scanners through pos-io (`scanner:serial:/dev/ttyACM0[:BAUD]`).

pub mod serial;

pub use serial::{ScanError, SerialScanner, Suffix, open_serial};
