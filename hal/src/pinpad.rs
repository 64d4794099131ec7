//! PIN entry devices. The clear PIN never leaves the implementation: only an encrypted PIN
//! block comes out.

use core::fmt;
use core::time::Duration;

use crate::cancel::CancelToken;
use crate::device::HealthCheck;
use crate::error::ErrorType;
use crate::pan::{Pan, wipe};

/// PIN block formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinBlockFormat {
    /// ISO 9564 format 0 under TDES (8 bytes), what CUP uses.
    Iso0Tdes,
    /// ISO 9564 format 0 padded to 16 bytes under SM4 (the CUP SM variant).
    Iso0Sm4,
}

/// What to ask the PIN pad for.
#[derive(Debug, Clone)]
pub struct PinRequest<'a> {
    /// The card number the PIN block is bound to.
    pub pan: &'a Pan,
    /// Which PIN key (TPK) slot encrypts the block.
    pub key_slot: u8,
    /// Fewest digits accepted (usually 4; 0 allows bypass).
    pub min_len: u8,
    /// Most digits accepted (usually 6, max 12).
    pub max_len: u8,
    /// Block format.
    pub format: PinBlockFormat,
    /// Total time allowed for entry.
    pub timeout: Duration,
}

/// An encrypted PIN block (8 or 16 bytes). `Debug` never shows it; it is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedPinBlock {
    bytes: [u8; 16],
    len: u8,
    /// The format it is in.
    pub format: PinBlockFormat,
}

impl EncryptedPinBlock {
    /// Wraps an 8- or 16-byte block; `None` for any other length.
    pub fn new(bytes: &[u8], format: PinBlockFormat) -> Option<Self> {
        if bytes.len() != 8 && bytes.len() != 16 {
            return None;
        }
        let mut b = [0; 16];
        b[..bytes.len()].copy_from_slice(bytes);
        Some(Self {
            bytes: b,
            len: bytes.len() as u8,
            format,
        })
    }
    /// The block, for ISO 8583 field 52 only.
    pub fn reveal(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl Drop for EncryptedPinBlock {
    fn drop(&mut self) {
        wipe(&mut self.bytes);
    }
}

impl fmt::Debug for EncryptedPinBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedPinBlock({:?}, <redacted>)", self.format)
    }
}

/// What the card holder did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinEntry {
    /// A PIN was entered.
    Entered(EncryptedPinBlock),
    /// Enter pressed with no digits (allowed when `min_len` is 0): no PIN.
    Bypassed,
}

/// A PIN pad.
pub trait PinPad: ErrorType + HealthCheck {
    /// Prompts for a PIN and returns it encrypted. Cancel key → error of kind
    /// [`Cancelled`](crate::ErrorKind::Cancelled); timeout → [`Timeout`](crate::ErrorKind::Timeout).
    fn get_pin(
        &mut self,
        request: &PinRequest<'_>,
        cancel: &CancelToken,
    ) -> Result<PinEntry, Self::Error>;
}
