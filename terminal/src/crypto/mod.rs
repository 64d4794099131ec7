//! Payment cryptography of the CUP POS dialect (notes/payments-cup-emv.md §2.6–2.9).
//!
//! Keys are [`SecretKey`]s: zeroized on drop, redacted in `Debug`. They live in a
//! [`pos_hal::KeyStore`] (operations only; [`SoftwareKeyStore`] is the software one); the
//! terminal never logs or prints them.

mod cipher;
mod keys;
mod mac;
mod pin;
mod signin;
mod track;

pub use cipher::{decrypt_ecb, encrypt_ecb, kcv};
pub use keys::{KeyStoreError, SecretKey, SoftwareKeyStore};
pub use mac::{cup_mac, mac, sm4_mac, verify_cup_mac, verify_mac, x919_mac};
pub use pin::{PinBlock, decrypt_pin_block, encrypt_pin_block, pin_block_iso0, pin_block_iso0_sm4};
pub use signin::{
    KeyBlockLayout, WorkingKeys, WrappedKey, build_key_block, key_block_parts, parse_key_block,
};
pub use track::{decrypt_track, encrypt_track};

use core::fmt;

/// Why a cryptographic operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key of a length the algorithm does not take.
    KeyLength(usize),
    /// Data that is not a whole number of blocks.
    DataLength(usize),
    /// A field 62 key block of a length no layout matches.
    KeyBlockLength(usize),
    /// A working key's check value does not match: the key block is corrupt or not for this TMK.
    CheckValue {
        /// Which key.
        key: &'static str,
    },
    /// A PIN of fewer than 4 or more than 12 digits, or not digits.
    Pin,
    /// A PAN too short for the PIN block.
    Pan,
    /// The operation is not defined for this key type.
    Unsupported,
    /// A track that is not digits and `=`.
    Track,
    /// A track of this many digits is too short to encrypt (fewer than 17).
    TrackTooShort(usize),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::KeyLength(n) => write!(f, "key of {n} bytes not supported"),
            CryptoError::DataLength(n) => write!(f, "data of {n} bytes is not whole blocks"),
            CryptoError::KeyBlockLength(n) => write!(f, "key block of {n} bytes matches no layout"),
            CryptoError::CheckValue { key } => write!(f, "{key} check value mismatch"),
            CryptoError::Pin => f.write_str("PIN must be 4 to 12 digits"),
            CryptoError::Pan => f.write_str("PAN too short for a PIN block"),
            CryptoError::Unsupported => f.write_str("operation not supported for this key"),
            CryptoError::Track => f.write_str("track must be digits and '='"),
            CryptoError::TrackTooShort(n) => {
                write!(f, "track of {n} digits is too short to encrypt")
            }
        }
    }
}

impl core::error::Error for CryptoError {}
