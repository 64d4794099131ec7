//! A 2D code scanner in serial mode on a pty: what `pos-scanner` reads a customer's payment
//! code from. Scans are the code and a suffix (CR LF by default), optionally after an AIM
//! prefix, sent at once or a byte at a time; noise and escape sequences can be sent too.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// A UnionPay payment code as a wallet app shows it (19 digits, `62` first) — test data.
pub const UNIONPAY_CODE: &str = "6225880123456789012";
/// An Alipay-style payment code (18 digits, `28` first) — test data.
pub const ALIPAY_CODE: &str = "281234567890123456";

/// The emulator.
pub struct ScannerEmulator {
    path: String,
    master: Mutex<std::fs::File>,
    _slave: std::fs::File,
}

impl std::fmt::Debug for ScannerEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScannerEmulator")
            .field("path", &self.path)
            .finish()
    }
}

impl ScannerEmulator {
    /// A scanner on a new pty.
    pub fn start() -> std::io::Result<Self> {
        let (master, slave, path) = crate::pty::open_pty()?;
        Ok(Self {
            path,
            master: Mutex::new(master),
            _slave: slave,
        })
    }

    /// The pty the driver opens.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Sends raw bytes (noise, a scan with its own framing).
    pub fn send(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.master
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(bytes)
    }

    /// Scans `code`: the code, then CR LF.
    pub fn scan(&self, code: &str) -> std::io::Result<()> {
        let mut bytes = code.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        self.send(&bytes)
    }

    /// Scans `code` a byte at a time, `gap` apart (a slow line).
    pub fn trickle(&self, code: &str, gap: Duration) -> std::io::Result<()> {
        for b in code.bytes().chain(*b"\r\n") {
            self.send(&[b])?;
            std::thread::sleep(gap);
        }
        Ok(())
    }
}
