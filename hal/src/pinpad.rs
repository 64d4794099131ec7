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

/// The card's key an offline PIN is enciphered under, and the challenge the card gave for it
/// (EMV Book 2 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardPinKey<'a> {
    /// RSA modulus (the ICC PIN encipherment key, or the ICC key).
    pub modulus: &'a [u8],
    /// RSA public exponent.
    pub exponent: &'a [u8],
    /// The card's answer to GET CHALLENGE.
    pub challenge: [u8; 8],
}

/// What to ask the PIN pad for when the card checks the PIN itself (EMV offline PIN).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct OfflinePinRequest<'a> {
    /// `Some`: encipher the PIN for the card (CVM 04/05); `None`: the plaintext format 2
    /// block (CVM 01/03).
    pub encipher: Option<CardPinKey<'a>>,
    /// Fewest digits accepted (0 allows bypass).
    pub min_len: u8,
    /// Most digits accepted (max 12).
    pub max_len: u8,
    /// Total time allowed for entry.
    pub timeout: Duration,
}

impl<'a> OfflinePinRequest<'a> {
    /// A plaintext offline PIN: 4–12 digits, 60 s.
    pub fn plaintext() -> Self {
        Self {
            encipher: None,
            min_len: 4,
            max_len: 12,
            timeout: Duration::from_secs(60),
        }
    }

    /// An offline PIN enciphered under `key`: 4–12 digits, 60 s.
    pub fn enciphered(key: CardPinKey<'a>) -> Self {
        Self {
            encipher: Some(key),
            ..Self::plaintext()
        }
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

/// The data field of the VERIFY command a PIN pad made for the card: the ISO 9564 format 2
/// block (plaintext, VERIFY P2 = `80`) or the enciphered block (P2 = `88`). `Debug` never shows
/// it; it is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct OfflinePinData {
    bytes: Secret<InlineBytes<256>>,
    /// Enciphered for the card (P2 = `88`), or the plaintext block (P2 = `80`).
    pub enciphered: bool,
}

impl OfflinePinData {
    /// Wraps VERIFY data: 8 bytes plaintext, or 1..=256 bytes enciphered; `None` otherwise.
    pub fn new(bytes: &[u8], enciphered: bool) -> Option<Self> {
        let fits = if enciphered {
            !bytes.is_empty()
        } else {
            bytes.len() == 8
        };
        if !fits {
            return None;
        }
        Some(Self {
            bytes: Secret::new(InlineBytes::new(bytes).ok()?),
            enciphered,
        })
    }

    /// The data, for the VERIFY command only.
    pub fn reveal(&self) -> &[u8] {
        self.bytes.expose_secret().as_bytes()
    }
}

impl fmt::Debug for OfflinePinData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OfflinePinData(enciphered: {}, <redacted>)",
            self.enciphered
        )
    }
}

/// What the card holder did at an offline PIN prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// Inline on purpose: the HAL works without an allocator; one answer per PIN prompt.
#[allow(clippy::large_enum_variant)]
pub enum OfflinePinEntry {
    /// A PIN was entered; this goes to the card.
    Entered(OfflinePinData),
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

    /// Prompts for a PIN the card checks itself (EMV offline PIN) and makes the VERIFY data:
    /// enciphered for the card under the key and challenge of `request` (the PIN never leaves
    /// the PIN pad in clear), or the plaintext format 2 block. Errors as [`PinPad::get_pin`].
    fn get_offline_pin(
        &mut self,
        request: &OfflinePinRequest<'_>,
        cancel: &CancelToken,
    ) -> Result<OfflinePinEntry, Self::Error>;
}

macro_rules! forward_pinpad {
    ($($ty:ty),*) => {$(
        impl<T: PinPad + ?Sized> PinPad for $ty {
            fn get_pin(&mut self, request: &PinRequest<'_>, cancel: &CancelToken) -> Result<PinEntry, Self::Error> {
                T::get_pin(self, request, cancel)
            }
            fn get_offline_pin(&mut self, request: &OfflinePinRequest<'_>, cancel: &CancelToken) -> Result<OfflinePinEntry, Self::Error> {
                T::get_offline_pin(self, request, cancel)
            }
        }
    )*};
}
forward_pinpad!(&mut T);
#[cfg(feature = "alloc")]
forward_pinpad!(alloc::boxed::Box<T>);
