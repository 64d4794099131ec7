//! Secret keys and the key store port.

use core::fmt;

use pos_hal::{
    EncryptedPinBlock, ErrorKind, ErrorType, InlineBytes, KeySlot, KeyStore, MacAlgorithm, Pan,
    PinBlockFormat, PinDigits, Secret,
};

#[cfg(test)]
use super::kcv;
use super::signin::unwrap_checked;
use super::{CryptoError, KeyBlockLayout, encrypt_ecb, encrypt_pin_block, parse_key_block};

/// A DES/TDES (8, 16, 24 bytes) or SM4 (16 bytes) key. Zeroized on drop; `Debug` shows only
/// the algorithm and length.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    bytes: Secret<InlineBytes<24>>,
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
        let bytes = InlineBytes::new(bytes).map_err(|e| CryptoError::KeyLength(e.needed))?;
        Ok(Self {
            bytes: Secret::new(bytes),
            sm4,
        })
    }

    /// The key bytes (for the cipher; never log them).
    pub fn expose(&self) -> &[u8] {
        self.bytes.expose_secret().as_bytes()
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

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.expose().len();
        let alg = if self.sm4 {
            "SM4"
        } else if len == 8 {
            "DES"
        } else {
            "TDES"
        };
        write!(f, "SecretKey({alg}, {len} bytes, <redacted>)")
    }
}

/// Why a key store operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// The slot holds no key (not signed in, master key not loaded).
    Empty(KeySlot),
    /// The slot cannot hold this kind of key (master keys 0–9).
    Slot(KeySlot),
    /// The cryptographic operation failed (bad length, check value mismatch).
    Crypto(CryptoError),
}

impl fmt::Display for KeyStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyStoreError::Empty(slot) => write!(f, "no key in slot {}", slot.name()),
            KeyStoreError::Slot(slot) => write!(f, "no such key slot {slot:?}"),
            KeyStoreError::Crypto(e) => write!(f, "key operation failed: {e}"),
        }
    }
}

impl core::error::Error for KeyStoreError {}

impl From<CryptoError> for KeyStoreError {
    fn from(e: CryptoError) -> Self {
        KeyStoreError::Crypto(e)
    }
}

impl pos_hal::Error for KeyStoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            KeyStoreError::Empty(_) => ErrorKind::NotReady,
            KeyStoreError::Slot(_) | KeyStoreError::Crypto(_) => ErrorKind::InvalidInput,
        }
    }
}

const MASTER_SLOTS: usize = 10;

/// The software key store: keys in memory, zeroized on drop and on erase.
///
/// It implements the HAL's [`KeyStore`] (operations only); on top of that, and only here, the
/// raw keys can be installed and read, for demos, simulators and tests. A terminal with a secure
/// element uses the element's `KeyStore` instead.
///
/// ```
/// use pos_hal::{KeySlot, KeyStore, MacAlgorithm};
/// use pos_terminal::crypto::{SecretKey, SoftwareKeyStore};
/// let mut keys = SoftwareKeyStore::default();
/// keys.install(KeySlot::Mac, SecretKey::tdes(&[0xC2, 0x4A, 0x8F, 0xB5, 0x7A, 0xA2, 0x01, 0x23])?)?;
/// let mac = keys.mac(KeySlot::Mac, MacAlgorithm::CupEcb, &[0x4D, 0x08, 0xF4, 0x34, 0x46, 0x4F, 0xE7, 0xBF])?;
/// assert_eq!(&mac, b"8A9E91B8");
/// assert!(format!("{keys:?}").contains("<redacted>"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct SoftwareKeyStore {
    masters: [Option<SecretKey>; MASTER_SLOTS],
    pin: Option<SecretKey>,
    mac: Option<SecretKey>,
    track: Option<SecretKey>,
}

impl SoftwareKeyStore {
    fn slot_mut(&mut self, slot: KeySlot) -> Result<&mut Option<SecretKey>, KeyStoreError> {
        match slot {
            KeySlot::Master(i) => self
                .masters
                .get_mut(usize::from(i))
                .ok_or(KeyStoreError::Slot(slot)),
            KeySlot::Pin => Ok(&mut self.pin),
            KeySlot::Mac => Ok(&mut self.mac),
            KeySlot::Track => Ok(&mut self.track),
            _ => Err(KeyStoreError::Slot(slot)),
        }
    }

    /// The raw key in `slot` (software store only: a secure element never gives it out).
    pub fn key(&self, slot: KeySlot) -> Result<&SecretKey, KeyStoreError> {
        let held = match slot {
            KeySlot::Master(i) => self
                .masters
                .get(usize::from(i))
                .ok_or(KeyStoreError::Slot(slot))?,
            KeySlot::Pin => &self.pin,
            KeySlot::Mac => &self.mac,
            KeySlot::Track => &self.track,
            _ => return Err(KeyStoreError::Slot(slot)),
        };
        held.as_ref().ok_or(KeyStoreError::Empty(slot))
    }

    /// Puts a clear key into `slot` (master key injection, tests); the old key is zeroized.
    pub fn install(&mut self, slot: KeySlot, key: SecretKey) -> Result<(), KeyStoreError> {
        *self.slot_mut(slot)? = Some(key);
        Ok(())
    }

    /// Loads all working keys of a sign-in answer's field 62, checked under the master key in
    /// `master`. Either all keys are replaced or none.
    pub fn load_key_block(
        &mut self,
        master: KeySlot,
        field62: &[u8],
        layout: &KeyBlockLayout,
    ) -> Result<(), KeyStoreError> {
        let keys = parse_key_block(field62, self.key(master)?, layout)?;
        self.pin = Some(keys.pik);
        self.mac = Some(keys.mak);
        self.track = keys.tdk;
        Ok(())
    }
}

impl ErrorType for SoftwareKeyStore {
    type Error = KeyStoreError;
}

impl KeyStore for SoftwareKeyStore {
    fn has_key(&self, slot: KeySlot) -> bool {
        self.key(slot).is_ok()
    }

    fn load_working_key(
        &mut self,
        slot: KeySlot,
        under: KeySlot,
        encrypted: &[u8],
        check_value: &[u8],
    ) -> Result<(), KeyStoreError> {
        let kek = self.key(under)?;
        let key = unwrap_checked(kek, encrypted, check_value, slot.name())?;
        *self.slot_mut(slot)? = Some(key);
        Ok(())
    }

    fn encrypt_pin_block(
        &mut self,
        slot: KeySlot,
        pan: &Pan,
        pin: &PinDigits,
        format: PinBlockFormat,
    ) -> Result<EncryptedPinBlock, KeyStoreError> {
        let key = self.key(slot)?;
        let digits = pin.expose_secret().as_bytes();
        let block = match format {
            PinBlockFormat::Iso0Sm4 if key.is_sm4() => {
                encrypt_pin_block(key, digits, pan.reveal())?
            }
            PinBlockFormat::Iso0Tdes if !key.is_sm4() => {
                encrypt_pin_block(key, digits, pan.reveal())?
            }
            _ => return Err(KeyStoreError::Crypto(CryptoError::Unsupported)),
        };
        EncryptedPinBlock::new(block.expose_secret(), format)
            .ok_or(KeyStoreError::Crypto(CryptoError::Unsupported))
    }

    fn mac(
        &mut self,
        slot: KeySlot,
        algorithm: MacAlgorithm,
        data: &[u8],
    ) -> Result<[u8; 8], KeyStoreError> {
        Ok(super::mac(self.key(slot)?, algorithm, data)?)
    }

    fn encrypt_in_place(&mut self, slot: KeySlot, data: &mut [u8]) -> Result<(), KeyStoreError> {
        Ok(encrypt_ecb(self.key(slot)?, data)?)
    }

    fn erase(&mut self, slot: KeySlot) -> Result<(), KeyStoreError> {
        *self.slot_mut(slot)? = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn store_with_master() -> SoftwareKeyStore {
        let mut keys = SoftwareKeyStore::default();
        let tmk = SecretKey::tdes(&[0x11; 16]).expect("16 bytes");
        keys.install(KeySlot::Master(0), tmk).expect("slot exists");
        keys
    }

    #[test]
    fn a_working_key_with_a_wrong_check_value_is_refused_and_the_old_key_stays() {
        let mut keys = store_with_master();
        let old = SecretKey::tdes(&[0x22; 16]).expect("16 bytes");
        keys.install(KeySlot::Pin, old.clone()).expect("slot");
        let new = SecretKey::tdes(&[0x33; 16]).expect("16 bytes");
        let mut wrapped = new.expose().to_vec();
        encrypt_ecb(keys.key(KeySlot::Master(0)).expect("tmk"), &mut wrapped)
            .expect("whole blocks");
        let err = keys.load_working_key(KeySlot::Pin, KeySlot::Master(0), &wrapped, &[0, 0, 0, 0]);
        assert!(matches!(
            err,
            Err(KeyStoreError::Crypto(CryptoError::CheckValue { .. }))
        ));
        assert_eq!(keys.key(KeySlot::Pin), Ok(&old));
        let cv = kcv(&new).expect("kcv");
        keys.load_working_key(KeySlot::Pin, KeySlot::Master(0), &wrapped, &cv)
            .expect("right check value");
        assert_eq!(keys.key(KeySlot::Pin), Ok(&new));
        // A caller-supplied check value longer than a KCV, or empty, is refused, never a panic.
        for cv in [&[][..], &[0u8; 9][..]] {
            let err = keys.load_working_key(KeySlot::Pin, KeySlot::Master(0), &wrapped, cv);
            assert!(matches!(
                err,
                Err(KeyStoreError::Crypto(CryptoError::CheckValue { .. }))
            ));
        }
    }

    #[test]
    fn empty_slots_are_not_ready_and_unknown_masters_are_invalid() {
        use pos_hal::Error as _;
        let mut keys = SoftwareKeyStore::default();
        let err = keys.mac(KeySlot::Mac, MacAlgorithm::CupEcb, b"data").err();
        assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::NotReady));
        let err = keys.erase(KeySlot::Master(10)).err();
        assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::InvalidInput));
    }

    #[test]
    fn pin_blocks_come_out_encrypted_and_redacted() {
        let mut keys = store_with_master();
        keys.install(KeySlot::Pin, SecretKey::tdes(&[0x44; 16]).expect("key"))
            .expect("slot");
        let pan = Pan::parse("6212345678901232").expect("pan");
        let pin: PinDigits = Secret::new(InlineBytes::new(b"123456").expect("fits"));
        let block = keys
            .encrypt_pin_block(KeySlot::Pin, &pan, &pin, PinBlockFormat::Iso0Tdes)
            .expect("block");
        let clear = super::super::pin_block_iso0(b"123456", pan.reveal()).expect("clear");
        assert_ne!(block.reveal(), clear.expose_secret().as_slice());
        assert!(format!("{block:?}").contains("redacted"));
        let sm4 = keys.encrypt_pin_block(KeySlot::Pin, &pan, &pin, PinBlockFormat::Iso0Sm4);
        assert!(sm4.is_err(), "a TDES key never makes an SM4 block");
    }
}
