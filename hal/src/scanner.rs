//! Code scanners: the 1D/2D scanner a cashier points at a customer's payment code (付款码).

use core::time::Duration;

use crate::bytes::InlineBytes;
use crate::cancel::CancelToken;
use crate::device::Device;
use crate::secret::Secret;

/// The longest code a scanner delivers here (payment codes are 18–24 digits; a QR may carry a
/// few hundred characters).
pub const MAX_CODE: usize = 512;

/// Why a scan is not a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeError {
    /// Nothing between the scanner's prefix and suffix.
    Empty,
    /// Longer than [`MAX_CODE`].
    TooLong,
    /// A control character or a byte outside printable ASCII: not a code, noise.
    NotPrintable,
}

impl core::fmt::Display for CodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CodeError::Empty => "empty scan",
            CodeError::TooLong => "scan longer than a code can be",
            CodeError::NotPrintable => "scan with non-printable bytes",
        })
    }
}

impl core::error::Error for CodeError {}

/// One scanned code. A customer's payment code is a bearer credential while it is valid, so
/// it is kept as a [`Secret`]: `Debug` shows only its length and first two characters (the
/// scheme prefix, e.g. `62` for UnionPay, `28` for Alipay).
///
/// ```
/// use pos_hal::ScannedCode;
/// let code = ScannedCode::parse(b"6226123456789012345")?;
/// assert_eq!(code.as_str(), "6226123456789012345");
/// assert_eq!(format!("{code:?}"), "ScannedCode(62…, 19 chars)");
/// assert!(ScannedCode::parse(b"62\x1b[2J").is_err());
/// # Ok::<(), pos_hal::CodeError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ScannedCode(Secret<InlineBytes<MAX_CODE>>);

impl ScannedCode {
    /// A code from the bytes a scanner delivered (prefix and suffix already removed):
    /// printable ASCII only, 1..=[`MAX_CODE`] bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, CodeError> {
        if bytes.is_empty() {
            return Err(CodeError::Empty);
        }
        if bytes.len() > MAX_CODE {
            return Err(CodeError::TooLong);
        }
        if !bytes.iter().all(|b| (0x20..0x7F).contains(b)) {
            return Err(CodeError::NotPrintable);
        }
        let inline = InlineBytes::new(bytes).map_err(|_| CodeError::TooLong)?;
        Ok(Self(Secret::new(inline)))
    }

    /// The code, in clear: every call site is a place where it is used.
    pub fn as_str(&self) -> &str {
        // Only printable ASCII gets in (checked by `parse`).
        core::str::from_utf8(self.0.expose_secret().as_bytes()).unwrap_or("")
    }

    /// Length in characters.
    pub fn len(&self) -> usize {
        self.0.expose_secret().len()
    }

    /// Never true for a parsed code; here for completeness.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl core::fmt::Debug for ScannedCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = self.as_str();
        write!(
            f,
            "ScannedCode({}…, {} chars)",
            s.get(..2).unwrap_or(""),
            s.len()
        )
    }
}

/// A code scanner (serial, keyboard wedge, camera).
///
/// *Provisional*: it is frozen once two real device families implement it (embedded-hal's
/// rule); today it is the serial scanner of `pos-scanner`.
pub trait CodeScanner: Device {
    /// Waits for one scan until `timeout` ([`Timeout`](crate::ErrorKind::Timeout)) or `cancel`
    /// ([`Cancelled`](crate::ErrorKind::Cancelled)). Scans made before the call are not
    /// returned: the code is the one shown after the cashier asked for it.
    fn read_code(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<ScannedCode, Self::Error>;
}

macro_rules! forward_scanner {
    ($($ty:ty),*) => {$(
        impl<T: CodeScanner + ?Sized> CodeScanner for $ty {
            fn read_code(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<ScannedCode, Self::Error> {
                T::read_code(self, timeout, cancel)
            }
        }
    )*};
}
forward_scanner!(&mut T);
#[cfg(feature = "alloc")]
forward_scanner!(alloc::boxed::Box<T>);
