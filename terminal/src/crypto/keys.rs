//! Secret keys and the key store port.

use core::fmt;

use zeroize::Zeroize;

use super::CryptoError;

/// A DES/TDES (8, 16, 24 bytes) or SM4 (16 bytes) key. Zeroized on drop; `Debug` shows only
/// the algorithm and length.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    bytes: [u8; 24],
    len: u8,
    sm4: bool,
}

impl SecretKey {
    /// A DES (8), double (16) or triple (24) length TDES key.
    pub fn tdes(bytes: &[u8]) -> Result<Self, CryptoError> {
        Self::make(bytes, false)
    }

    /// An SM4 key (16 bytes).
    pub fn sm4(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 16 {
            return Err(CryptoError::KeyLength(bytes.len()));
        }
        Self::make(bytes, true)
    }

    fn make(bytes: &[u8], sm4: bool) -> Result<Self, CryptoError> {
        if !matches!(bytes.len(), 8 | 16 | 24) {
            return Err(CryptoError::KeyLength(bytes.len()));
        }
        let mut k = [0u8; 24];
        k[..bytes.len()].copy_from_slice(bytes);
        Ok(Self {
            bytes: k,
            len: bytes.len() as u8,
            sm4,
        })
    }

    /// The key bytes (for the cipher; never log them).
    pub fn expose(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// True for SM4.
    pub fn is_sm4(&self) -> bool {
        self.sm4
    }

    /// Cipher block size: 8 (DES family) or 16 (SM4).
    pub fn block_size(&self) -> usize {
        if self.sm4 { 16 } else { 8 }
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alg = if self.sm4 {
            "SM4"
        } else if self.len == 8 {
            "DES"
        } else {
            "TDES"
        };
        write!(f, "SecretKey({alg}, {} bytes, <redacted>)", self.len)
    }
}

/// Where a key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySlot {
    /// Terminal master key (loaded out of band).
    Tmk,
    /// PIN key (PIK/TPK).
    Pik,
    /// MAC key (MAK/TAK).
    Mak,
    /// Track data key (TDK).
    Tdk,
}

impl KeySlot {
    const fn index(self) -> usize {
        match self {
            KeySlot::Tmk => 0,
            KeySlot::Pik => 1,
            KeySlot::Mak => 2,
            KeySlot::Tdk => 3,
        }
    }
}

/// The port for key storage (a secure element on a real terminal, memory or a file in a demo).
pub trait KeyStore {
    /// The key in `slot`.
    fn key(&self, slot: KeySlot) -> Option<&SecretKey>;
    /// Replaces the key in `slot`; the old one is zeroized.
    fn store(&mut self, slot: KeySlot, key: SecretKey);
    /// Erases the key in `slot`.
    fn erase(&mut self, slot: KeySlot);
}

/// Keys in memory, zeroized on drop.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    keys: [Option<SecretKey>; 4],
}

impl KeyStore for MemoryKeyStore {
    fn key(&self, slot: KeySlot) -> Option<&SecretKey> {
        self.keys[slot.index()].as_ref()
    }
    fn store(&mut self, slot: KeySlot, key: SecretKey) {
        self.keys[slot.index()] = Some(key);
    }
    fn erase(&mut self, slot: KeySlot) {
        self.keys[slot.index()] = None;
    }
}
