//! Serial code scanners: each scan is `[prefix] code suffix`, read through any pos-io
//! transport with a deadline and a cancel token.

use std::time::Duration;

use pos_hal::{
    CancelToken, CodeError, CodeScanner, Device, DeviceInfo, DeviceKind, ErrorKind, ErrorType,
    HealthLevel, HealthReport, HealthStatus, ScannedCode,
};
use pos_io::Transport;

/// A scan is at most a code and its framing; more is noise.
const MAX_SCAN: usize = pos_hal::scanner::MAX_CODE + 16;

/// What ends a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Suffix {
    /// CR, LF or CR LF (the usual factory setting).
    #[default]
    LineEnd,
    /// TAB.
    Tab,
}

impl Suffix {
    fn ends(self, b: u8) -> bool {
        match self {
            Suffix::LineEnd => matches!(b, b'\r' | b'\n'),
            Suffix::Tab => b == b'\t',
        }
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The port failed.
    #[error("scanner port: {0}")]
    Io(#[from] std::io::Error),
    /// A scan that is not a code (empty, too long, control characters).
    #[error("scanned data is not a code: {0}")]
    NotACode(CodeError),
    /// No scan in time.
    #[error("no code was scanned in time")]
    Timeout,
    /// Cancelled through the token.
    #[error("cancelled")]
    Cancelled,
}

impl pos_hal::Error for ScanError {
    fn kind(&self) -> ErrorKind {
        match self {
            ScanError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => ErrorKind::NoDevice,
            ScanError::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                ErrorKind::PermissionDenied
            }
            ScanError::Io(_) => ErrorKind::Disconnected,
            ScanError::NotACode(_) => ErrorKind::Protocol,
            ScanError::Timeout => ErrorKind::Timeout,
            ScanError::Cancelled => ErrorKind::Cancelled,
        }
    }
}

/// A code scanner on a serial line.
#[derive(Debug)]
pub struct SerialScanner<T: Transport> {
    transport: T,
    suffix: Suffix,
    prefix: Vec<u8>,
    buf: Vec<u8>,
    selector: String,
}

/// Opens a scanner on `path` at `baud` (8N1), scans ended by CR/LF.
pub fn open_serial(
    path: &str,
    baud: u32,
) -> Result<SerialScanner<pos_io::serial::SerialTransport>, ScanError> {
    let mut transport = pos_io::serial::SerialTransport::new(path, baud, false);
    transport.connect()?;
    Ok(SerialScanner::new(
        transport,
        &format!("scanner:serial:{path}:{baud}"),
    ))
}

/// The code of the first complete scan in `buf` and how many bytes it used; `None` while no
/// suffix has come. Leading suffix bytes (the LF of a CR LF) are skipped; a configured prefix
/// is removed when present.
///
/// ```
/// use pos_scanner::serial::{split_scan, Suffix};
/// assert_eq!(split_scan(b"\n]Q1626212345\r\nNEXT", Suffix::LineEnd, b"]Q1"), Some((&b"626212345"[..], 14)));
/// assert_eq!(split_scan(b"6262", Suffix::LineEnd, b""), None);
/// ```
pub fn split_scan<'b>(buf: &'b [u8], suffix: Suffix, prefix: &[u8]) -> Option<(&'b [u8], usize)> {
    let start = buf.iter().position(|b| !suffix.ends(*b) && *b != 0)?;
    let len = buf[start..].iter().position(|b| suffix.ends(*b))?;
    let scan = &buf[start..start + len];
    let code = scan.strip_prefix(prefix).unwrap_or(scan);
    Some((code, start + len + 1))
}

impl<T: Transport> SerialScanner<T> {
    /// A scanner on `transport` with CR/LF suffix and no prefix; `selector` reopens it.
    pub fn new(transport: T, selector: &str) -> Self {
        Self {
            transport,
            suffix: Suffix::LineEnd,
            prefix: Vec::new(),
            buf: Vec::with_capacity(MAX_SCAN),
            selector: selector.into(),
        }
    }

    /// Scans end with `suffix`.
    pub fn with_suffix(mut self, suffix: Suffix) -> Self {
        self.suffix = suffix;
        self
    }

    /// Scans start with `prefix` (an AIM code id like `]Q1`), removed from the code.
    pub fn with_prefix(mut self, prefix: &[u8]) -> Self {
        self.prefix = prefix.to_vec();
        self
    }
}

impl<T: Transport> ErrorType for SerialScanner<T> {
    type Error = ScanError;
}

impl<T: Transport> Device for SerialScanner<T> {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            DeviceKind::CodeScanner,
            "scanner",
            "serial code scanner",
            &self.selector,
        )
    }

    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, ScanError> {
        Ok(HealthReport::new(
            level,
            HealthStatus::Ok,
            "serial port open (the scanner speaks only when it reads a code)",
        ))
    }
}

impl<T: Transport> CodeScanner for SerialScanner<T> {
    fn read_code(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<ScannedCode, ScanError> {
        let (suffix, prefix) = (self.suffix, &self.prefix);
        let found = pos_io::framed::read_frame(
            &mut self.transport,
            &mut self.buf,
            MAX_SCAN,
            timeout,
            || cancel.is_cancelled(),
            |buf| split_scan(buf, suffix, prefix).map(|(code, _)| ScannedCode::parse(code)),
        );
        match found {
            Ok(code) => code.map_err(ScanError::NotACode),
            Err(pos_io::framed::FramedReadError::Io(e)) => Err(ScanError::Io(e)),
            Err(pos_io::framed::FramedReadError::Cancelled) => Err(ScanError::Cancelled),
            Err(_) => Err(ScanError::Timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crlf_cr_lf_and_tab_end_a_scan_and_the_prefix_goes() {
        assert_eq!(
            split_scan(b"6226001\r\n", Suffix::LineEnd, b""),
            Some((&b"6226001"[..], 8))
        );
        assert_eq!(
            split_scan(b"\r\n6226001\n", Suffix::LineEnd, b""),
            Some((&b"6226001"[..], 10))
        );
        assert_eq!(
            split_scan(b"]Q16226001\t", Suffix::Tab, b"]Q1"),
            Some((&b"6226001"[..], 11))
        );
        assert_eq!(split_scan(b"6226001\t", Suffix::LineEnd, b""), None);
        assert_eq!(split_scan(b"\r\n\r\n", Suffix::LineEnd, b""), None);
    }

    proptest! {
        #[test]
        fn any_bytes_split_without_panic_and_within_the_buffer(buf in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Some((code, used)) = split_scan(&buf, Suffix::LineEnd, b"]Q1") {
                prop_assert!(used <= buf.len() && code.len() < used);
            }
        }
    }
}
