//! Working keys from the sign-in response (0810 field 62), encrypted under the TMK with check
//! values (notes/payments-cup-emv.md §2.6).

use alloc::vec::Vec;

use super::{CryptoError, SecretKey, decrypt_ecb, encrypt_ecb, kcv};

/// Acquirer variants of the field 62 layout.
///
/// ```
/// use pos_terminal::crypto::KeyBlockLayout;
/// let hunan = KeyBlockLayout::default().with_mak_cv_offset(28);
/// let x919 = KeyBlockLayout::default().with_double_length_mak(true);
/// assert!(x919.double_length_mak && !hunan.double_length_mak);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyBlockLayout {
    /// Offset of the MAK check value in the 40/60-byte layouts: 36 (CUP HQ) or 28 (some
    /// provincial centres).
    pub mak_cv_offset: usize,
    /// Keys are SM4 (16 bytes each, all significant) instead of TDES.
    pub sm4: bool,
    /// The TDES MAK is double length (all 16 bytes of 20..36 significant), as ANSI X9.19
    /// needs; the CUP ECB MAC uses only the first 8.
    pub double_length_mak: bool,
}

impl Default for KeyBlockLayout {
    /// CUP headquarters: TDES keys, single-length MAK, MAK check value at 36.
    fn default() -> Self {
        Self {
            mak_cv_offset: 36,
            sm4: false,
            double_length_mak: false,
        }
    }
}

impl KeyBlockLayout {
    /// With the MAK check value at `offset`.
    pub const fn with_mak_cv_offset(mut self, offset: usize) -> Self {
        self.mak_cv_offset = offset;
        self
    }
    /// SM4 keys.
    pub const fn with_sm4(mut self, sm4: bool) -> Self {
        self.sm4 = sm4;
        self
    }
    /// A double-length TDES MAK (X9.19).
    pub const fn with_double_length_mak(mut self, double: bool) -> Self {
        self.double_length_mak = double;
        self
    }
}

/// The keys a sign-in delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingKeys {
    /// PIN key.
    pub pik: SecretKey,
    /// MAC key (8 bytes for TDES layouts: the CUP MAC is single DES).
    pub mak: SecretKey,
    /// Track data key (60-byte layout only).
    pub tdk: Option<SecretKey>,
}

/// Decrypts a working key under `tmk` and checks it against `cv` (leading KCV bytes).
pub(crate) fn unwrap_checked(
    tmk: &SecretKey,
    cipher: &[u8],
    cv: &[u8],
    name: &'static str,
) -> Result<SecretKey, CryptoError> {
    unwrap(tmk, cipher, cv, name, tmk.is_sm4())
}

fn unwrap(
    tmk: &SecretKey,
    cipher: &[u8],
    cv: &[u8],
    name: &'static str,
    sm4: bool,
) -> Result<SecretKey, CryptoError> {
    let mut clear: Vec<u8> = cipher.to_vec();
    decrypt_ecb(tmk, &mut clear)?;
    let key = if sm4 {
        SecretKey::sm4(&clear)
    } else {
        SecretKey::tdes(&clear)
    };
    zeroize::Zeroize::zeroize(&mut clear);
    let key = key?;
    // An empty check value would check nothing; a longer one than the KCV cannot match.
    let computed = kcv(&key)?;
    if cv.is_empty() || computed.get(..cv.len()) != Some(cv) {
        return Err(CryptoError::CheckValue { key: name });
    }
    Ok(key)
}

/// One working key of a field 62 key block, still encrypted under the master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrappedKey<'a> {
    /// Where it goes.
    pub slot: pos_hal::KeySlot,
    /// The key encrypted under the master key.
    pub encrypted: &'a [u8],
    /// Its check value (leading bytes of E(key, 0…0)).
    pub check_value: &'a [u8],
}

/// Splits a field 62 key block into its wrapped keys without decrypting anything, so that a
/// key store (or secure element) can unwrap and check them itself
/// ([`pos_hal::KeyStore::load_working_key`]).
pub fn key_block_parts<'a>(
    field62: &'a [u8],
    layout: &KeyBlockLayout,
) -> Result<Vec<WrappedKey<'a>>, CryptoError> {
    use pos_hal::KeySlot;
    let key = |slot, range: core::ops::Range<usize>, cv: core::ops::Range<usize>| WrappedKey {
        slot,
        encrypted: &field62[range],
        check_value: &field62[cv],
    };
    let mak_cv = layout.mak_cv_offset;
    match field62.len() {
        24 if !layout.sm4 => Ok(alloc::vec![
            key(KeySlot::Pin, 0..8, 8..12),
            key(KeySlot::Mac, 12..20, 20..24),
        ]),
        n @ (40 | 60) => {
            let long_mak = layout.sm4 || layout.double_length_mak;
            if mak_cv + 4 > 40 || mak_cv < if long_mak { 36 } else { 28 } {
                return Err(CryptoError::KeyBlockLength(n));
            }
            let mak_end = if long_mak { 36 } else { 28 };
            let mut keys = alloc::vec![
                key(KeySlot::Pin, 0..16, 16..20),
                key(KeySlot::Mac, 20..mak_end, mak_cv..mak_cv + 4),
            ];
            if n == 60 {
                keys.push(key(KeySlot::Track, 40..56, 56..60));
            }
            Ok(keys)
        }
        n => Err(CryptoError::KeyBlockLength(n)),
    }
}

/// Decrypts and checks the working keys of a field 62 key block (24, 40 or 60 bytes).
pub fn parse_key_block(
    field62: &[u8],
    tmk: &SecretKey,
    layout: &KeyBlockLayout,
) -> Result<WorkingKeys, CryptoError> {
    let sm4 = layout.sm4;
    let mak_cv = layout.mak_cv_offset;
    match field62.len() {
        24 if !sm4 => Ok(WorkingKeys {
            pik: unwrap(tmk, &field62[0..8], &field62[8..12], "PIK", false)?,
            mak: unwrap(tmk, &field62[12..20], &field62[20..24], "MAK", false)?,
            tdk: None,
        }),
        n @ (40 | 60) => {
            if mak_cv + 4 > 40 || mak_cv < 28 {
                return Err(CryptoError::KeyBlockLength(n));
            }
            let mak_end = if sm4 || layout.double_length_mak {
                if mak_cv < 36 {
                    return Err(CryptoError::KeyBlockLength(n));
                }
                36
            } else {
                28
            };
            let tdk = if n == 60 {
                Some(unwrap(tmk, &field62[40..56], &field62[56..60], "TDK", sm4)?)
            } else {
                None
            };
            Ok(WorkingKeys {
                pik: unwrap(tmk, &field62[0..16], &field62[16..20], "PIK", sm4)?,
                mak: unwrap(
                    tmk,
                    &field62[20..mak_end],
                    &field62[mak_cv..mak_cv + 4],
                    "MAK",
                    sm4,
                )?,
                tdk,
            })
        }
        n => Err(CryptoError::KeyBlockLength(n)),
    }
}

fn wrap(tmk: &SecretKey, key: &SecretKey, out: &mut Vec<u8>) -> Result<(), CryptoError> {
    let mut c = key.expose().to_vec();
    encrypt_ecb(tmk, &mut c)?;
    out.extend_from_slice(&c);
    Ok(())
}

/// Builds a field 62 key block (what an acquirer host sends): 40 bytes without a TDK, 60 with.
/// The MAK must be 8 bytes (TDES layout) or 16 (SM4).
pub fn build_key_block(
    tmk: &SecretKey,
    keys: &WorkingKeys,
    layout: &KeyBlockLayout,
) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(60);
    wrap(tmk, &keys.pik, &mut out)?;
    out.extend_from_slice(&kcv(&keys.pik)?);
    wrap(tmk, &keys.mak, &mut out)?;
    let mak_len = keys.mak.expose().len();
    out.resize(20 + mak_len.max(16), 0);
    if layout.mak_cv_offset + 4 > 40 || layout.mak_cv_offset < 20 + mak_len {
        return Err(CryptoError::KeyBlockLength(layout.mak_cv_offset));
    }
    let cv = kcv(&keys.mak)?;
    out.resize(40, 0);
    out[layout.mak_cv_offset..layout.mak_cv_offset + 4].copy_from_slice(&cv);
    if let Some(tdk) = &keys.tdk {
        wrap(tmk, tdk, &mut out)?;
        out.extend_from_slice(&kcv(tdk)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    fn keys() -> WorkingKeys {
        WorkingKeys {
            pik: SecretKey::tdes(&h("11223344556677888877665544332211")).expect("pik"),
            mak: SecretKey::tdes(&h("C24A8FB57AA20123")).expect("mak"),
            tdk: Some(SecretKey::tdes(&h("0123456789ABCDEFFEDCBA9876543210")).expect("tdk")),
        }
    }

    #[test]
    fn key_block_round_trips_and_matches_the_published_vector() {
        let tmk = SecretKey::tdes(&h("70F2A84CCBC2AE8625CBB0F2C22AB923")).expect("tmk");
        let layout = KeyBlockLayout::default();
        let block = build_key_block(&tmk, &keys(), &layout).expect("build");
        assert_eq!(block.len(), 60);
        // MAK C24A8FB57AA20123 under this TMK is 96D605EA176B7E9E, KCV 0547DB3E.
        assert_eq!(&block[20..28], &h("96D605EA176B7E9E")[..]);
        assert_eq!(&block[36..40], &h("0547DB3E")[..]);
        let parsed = parse_key_block(&block, &tmk, &layout).expect("parse");
        assert_eq!(parsed, keys());
        let short = parse_key_block(&block[..40], &tmk, &layout).expect("40-byte layout");
        assert_eq!(short.tdk, None);
    }

    #[test]
    fn a_double_length_mak_round_trips_for_x919() {
        let tmk = SecretKey::tdes(&h("70F2A84CCBC2AE8625CBB0F2C22AB923")).expect("tmk");
        let layout = KeyBlockLayout::default().with_double_length_mak(true);
        let mut k = keys();
        k.mak = SecretKey::tdes(&h("0123456789ABCDEFFEDCBA9876543210")).expect("mak");
        let block = build_key_block(&tmk, &k, &layout).expect("build");
        let parsed = parse_key_block(&block, &tmk, &layout).expect("parse");
        assert_eq!(parsed.mak.expose().len(), 16);
        assert_eq!(parsed, k);
        // Read with the single-length layout, the same block yields only the left half.
        let single = parse_key_block(&block, &tmk, &KeyBlockLayout::default());
        assert!(single.is_err(), "the check value is of the 16-byte key");
    }

    #[test]
    fn corrupt_blocks_are_refused() {
        let tmk = SecretKey::tdes(&h("70F2A84CCBC2AE8625CBB0F2C22AB923")).expect("tmk");
        let layout = KeyBlockLayout::default();
        let mut block = build_key_block(&tmk, &keys(), &layout).expect("build");
        block[3] ^= 1;
        assert_eq!(
            parse_key_block(&block, &tmk, &layout),
            Err(CryptoError::CheckValue { key: "PIK" })
        );
        assert_eq!(
            parse_key_block(&block[..33], &tmk, &layout),
            Err(CryptoError::KeyBlockLength(33))
        );
        let wrong_tmk = SecretKey::tdes(&h("00000000000000000000000000000001")).expect("tmk");
        let good = build_key_block(&tmk, &keys(), &layout).expect("build");
        assert!(parse_key_block(&good, &wrong_tmk, &layout).is_err());
    }
}
