//! Key slots and the key store as operations: the keys never leave it, so a secure element or
//! an HSM-backed PIN pad can implement it as well as a software store can.

use crate::bytes::InlineBytes;
use crate::error::ErrorType;
use crate::pan::Pan;
use crate::pinpad::{EncryptedPinBlock, PinBlockFormat};
use crate::secret::Secret;

/// Where a key lives; shared by the PIN pad, the key store and the terminal core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySlot {
    /// Terminal master key `n` (loaded out of band; POS menus offer indices 0–9).
    Master(u8),
    /// PIN key (PIK/TPK), a working key under the master key.
    Pin,
    /// MAC key (MAK/TAK).
    Mac,
    /// Track data key (TDK).
    Track,
}

impl KeySlot {
    /// Short name for logs and errors (`"TMK0"`, `"PIK"`…); never the key.
    pub const fn name(self) -> &'static str {
        match self {
            KeySlot::Master(0) => "TMK0",
            KeySlot::Master(_) => "TMK",
            KeySlot::Pin => "PIK",
            KeySlot::Mac => "MAK",
            KeySlot::Track => "TDK",
        }
    }
}

/// MAC algorithms an acquirer may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MacAlgorithm {
    /// The CUP POS "ECB" MAC: XOR of all 8-byte blocks, then one encryption. Legacy and
    /// forgeable by XOR-preserving edits of the message; only for acquirers that require it.
    CupEcb,
    /// ANSI X9.19 retail MAC (ISO 9797-1 algorithm 3) with a double-length TDES key.
    X919,
    /// SM4 CBC-MAC (ISO 9797-1 algorithm 1), first 8 bytes: for 国密 (SM) keys.
    Sm4Cbc,
}

/// Clear PIN digits (ASCII, 4–12), wiped on drop. Only a PIN pad or a test makes one.
pub type PinDigits = Secret<InlineBytes<12>>;

/// A key store offering operations, never raw keys.
///
/// Working keys arrive encrypted under a master key with their check value (ISO 8583 field 62
/// of the sign-in answer); the store unwraps and checks them inside.
pub trait KeyStore: ErrorType {
    /// True when `slot` holds a key.
    fn has_key(&self, slot: KeySlot) -> bool;
    /// Unwraps `encrypted` under the key in `under`, checks it against `check_value` (the
    /// leading bytes of the encryption of zeros) and stores it in `slot`. On any failure the
    /// slot keeps its old key.
    fn load_working_key(
        &mut self,
        slot: KeySlot,
        under: KeySlot,
        encrypted: &[u8],
        check_value: &[u8],
    ) -> Result<(), Self::Error>;
    /// Builds and encrypts a PIN block for `pan` under the key in `slot`.
    fn encrypt_pin_block(
        &mut self,
        slot: KeySlot,
        pan: &Pan,
        pin: &PinDigits,
        format: PinBlockFormat,
    ) -> Result<EncryptedPinBlock, Self::Error>;
    /// The MAC of `data` with the key in `slot`.
    fn mac(
        &mut self,
        slot: KeySlot,
        algorithm: MacAlgorithm,
        data: &[u8],
    ) -> Result<[u8; 8], Self::Error>;
    /// Encrypts `data` in place (whole blocks, ECB) with the key in `slot` (track data).
    fn encrypt_in_place(&mut self, slot: KeySlot, data: &mut [u8]) -> Result<(), Self::Error>;
    /// Erases the key in `slot` (zeroized).
    fn erase(&mut self, slot: KeySlot) -> Result<(), Self::Error>;
}

macro_rules! forward_keys {
    ($($ty:ty),*) => {$(
        impl<T: KeyStore + ?Sized> KeyStore for $ty {
            fn has_key(&self, slot: KeySlot) -> bool {
                T::has_key(self, slot)
            }
            fn load_working_key(&mut self, slot: KeySlot, under: KeySlot, encrypted: &[u8], check_value: &[u8]) -> Result<(), Self::Error> {
                T::load_working_key(self, slot, under, encrypted, check_value)
            }
            fn encrypt_pin_block(&mut self, slot: KeySlot, pan: &Pan, pin: &PinDigits, format: PinBlockFormat) -> Result<EncryptedPinBlock, Self::Error> {
                T::encrypt_pin_block(self, slot, pan, pin, format)
            }
            fn mac(&mut self, slot: KeySlot, algorithm: MacAlgorithm, data: &[u8]) -> Result<[u8; 8], Self::Error> {
                T::mac(self, slot, algorithm, data)
            }
            fn encrypt_in_place(&mut self, slot: KeySlot, data: &mut [u8]) -> Result<(), Self::Error> {
                T::encrypt_in_place(self, slot, data)
            }
            fn erase(&mut self, slot: KeySlot) -> Result<(), Self::Error> {
                T::erase(self, slot)
            }
        }
    )*};
}
forward_keys!(&mut T);
#[cfg(feature = "alloc")]
forward_keys!(alloc::boxed::Box<T>);
