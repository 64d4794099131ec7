//! PIN entry devices. The clear PIN never leaves the implementation: only an encrypted PIN
//! block comes out.

use core::fmt;
use core::time::Duration;

use crate::bytes::InlineBytes;
use crate::cancel::CancelToken;
use crate::device::Device;
use crate::keys::KeySlot;
use crate::pan::Pan;
use crate::secret::Secret;

/// PIN block formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PinBlockFormat {
    /// ISO 9564 format 0 under TDES (8 bytes), what CUP uses.
    Iso0Tdes,
    /// ISO 9564 format 0 padded to 16 bytes under SM4 (the CUP SM variant).
    Iso0Sm4,
}

/// What to ask the PIN pad for.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PinRequest<'a> {
    /// The card number the PIN block is bound to.
    pub pan: &'a Pan,
    /// Which key encrypts the block (normally [`KeySlot::Pin`]).
    pub key_slot: KeySlot,
    /// Fewest digits accepted (usually 4; 0 allows bypass).
    pub min_len: u8,
    /// Most digits accepted (usually 6, max 12).
    pub max_len: u8,
    /// Block format.
    pub format: PinBlockFormat,
    /// Total time allowed for entry.
    pub timeout: Duration,
}

impl<'a> PinRequest<'a> {
    /// Online PIN for `pan`: 4–12 digits, ISO format 0 under the PIN key, 60 s.
    pub fn online(pan: &'a Pan) -> Self {
        Self {
            pan,
            key_slot: KeySlot::Pin,
            min_len: 4,
            max_len: 12,
            format: PinBlockFormat::Iso0Tdes,
            timeout: Duration::from_secs(60),
        }
    }
    /// With the block format given.
    pub fn with_format(mut self, format: PinBlockFormat) -> Self {
        self.format = format;
        self
    }
    /// With the digit limits given (`min_len` 0 allows bypass).
    pub fn with_lengths(mut self, min_len: u8, max_len: u8) -> Self {
        self.min_len = min_len;
        self.max_len = max_len;
        self
    }
    /// With the entry timeout given.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// An encrypted PIN block (8 or 16 bytes). `Debug` never shows it; it is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedPinBlock {
    bytes: Secret<InlineBytes<16>>,
    /// The format it is in.
    pub format: PinBlockFormat,
}

impl EncryptedPinBlock {
    /// Wraps an 8- or 16-byte block; `None` for any other length.
    pub fn new(bytes: &[u8], format: PinBlockFormat) -> Option<Self> {
        if bytes.len() != 8 && bytes.len() != 16 {
            return None;
        }
        Some(Self {
            bytes: Secret::new(InlineBytes::new(bytes).ok()?),
            format,
        })
    }
    /// The block, for ISO 8583 field 52 only.
    pub fn reveal(&self) -> &[u8] {
        self.bytes.expose_secret().as_bytes()
    }
}

impl fmt::Debug for EncryptedPinBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedPinBlock({:?}, <redacted>)", self.format)
    }
}

/// What the card holder did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinEntry {
    /// A PIN was entered.
    Entered(EncryptedPinBlock),
    /// Enter pressed with no digits (allowed when `min_len` is 0): no PIN.
    Bypassed,
}

/// A PIN pad.
///
/// *Provisional*: no real device implements it yet; it is frozen once two do (embedded-hal's
/// rule).
pub trait PinPad: Device {
    /// Prompts for a PIN and returns it encrypted. Cancel key → error of kind
    /// [`Cancelled`](crate::ErrorKind::Cancelled); timeout → [`Timeout`](crate::ErrorKind::Timeout).
    fn get_pin(
        &mut self,
        request: &PinRequest<'_>,
        cancel: &CancelToken,
    ) -> Result<PinEntry, Self::Error>;
}

macro_rules! forward_pinpad {
    ($($ty:ty),*) => {$(
        impl<T: PinPad + ?Sized> PinPad for $ty {
            fn get_pin(&mut self, request: &PinRequest<'_>, cancel: &CancelToken) -> Result<PinEntry, Self::Error> {
                T::get_pin(self, request, cancel)
            }
        }
    )*};
}
forward_pinpad!(&mut T);
#[cfg(feature = "alloc")]
forward_pinpad!(alloc::boxed::Box<T>);
