//! Contactless (ISO 14443) card readers.

use core::fmt;
use core::time::Duration;

use crate::apdu::{Apdu, Rapdu};
use crate::cancel::CancelToken;
use crate::device::{DeviceInfo, HealthCheck};
use crate::error::ErrorType;
use crate::icc::ReaderCaps;

/// Kinds of contactless target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetKind {
    /// ISO 14443-4 type A (bank cards, qPBOC).
    IsoA,
    /// ISO 14443-4 type B.
    IsoB,
    /// MIFARE Classic / memory card type A (not ISO-DEP).
    MifareA,
    /// Could not be classified.
    Unknown,
}

/// Which target kinds a poll looks for, as bit flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetTypes(u8);

impl TargetTypes {
    /// ISO 14443 type A.
    pub const A: Self = Self(1);
    /// ISO 14443 type B.
    pub const B: Self = Self(2);
    /// Both A and B (what payment terminals poll for).
    pub const AB: Self = Self(3);
    /// True if `other` is included.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// A card UID of 4, 7 or 10 bytes (or a PUPI for type B).
pub type Uid = ShortBytes<10>;
/// Historical bytes of the ATS (type A) or ATR (PC/SC), at most 15 per ISO 14443-4.
pub type Historical = ShortBytes<15>;

/// A few bytes stored inline, shown as hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShortBytes<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> ShortBytes<N> {
    /// No bytes.
    pub const EMPTY: Self = Self {
        bytes: [0; N],
        len: 0,
    };
    /// From bytes; `None` when longer than `N`.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > N {
            return None;
        }
        let mut b = [0; N];
        b[..bytes.len()].copy_from_slice(bytes);
        Some(Self {
            bytes: b,
            len: bytes.len() as u8,
        })
    }
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl<const N: usize> fmt::Debug for ShortBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_bytes() {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// A card found by a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// What it is.
    pub kind: TargetKind,
    /// UID / PUPI.
    pub uid: Uid,
    /// ATQA (type A).
    pub atqa: Option<[u8; 2]>,
    /// SAK (type A).
    pub sak: Option<u8>,
    /// Historical bytes from the ATS or ATR, as far as the reader reports them.
    pub historical: Historical,
}

/// A contactless reader.
pub trait PiccReader: ErrorType + HealthCheck {
    /// What the reader can do.
    fn caps(&self) -> ReaderCaps;
    /// Identifies the reader.
    fn info(&self) -> DeviceInfo;
    /// Polls until a target of `types` is in the field, the timeout passes or `cancel` fires.
    fn poll(
        &mut self,
        types: TargetTypes,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Target, Self::Error>;
    /// Exchanges an APDU with the activated target.
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, Self::Error>;
    /// Deactivates the target (the card may be removed).
    fn release(&mut self) -> Result<(), Self::Error>;
}
