//! MACs over MTI..field 63, per acquirer: the CUP "ECB" MAC (银联标准 MAC,
//! notes/payments-cup-emv.md §2.7), ANSI X9.19 (retail MAC) and the SM4 CBC-MAC for 国密 keys.
//!
//! **The CUP ECB MAC is weak.** It XORs all blocks before one encryption, so anyone can edit a
//! message without the key as long as the XOR of the blocks stays the same: a declined answer
//! turned into an approval by compensating the change in field 37, or a valid MAC reused on
//! another request by appending 8 chosen bytes to field 63. Use it only for acquirers that
//! require it; prefer [`MacAlgorithm::X919`] or [`MacAlgorithm::Sm4Cbc`].

use pos_hal::MacAlgorithm;

use super::{CryptoError, SecretKey, decrypt_ecb, encrypt_ecb};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex8(bytes: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, b) in bytes.iter().take(8).enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0x0F)];
    }
    out
}

/// Field 64 for `mab`: XOR of the zero-padded 8-byte blocks → 16 hex chars H;
/// E1 = E(H[0..8]); E2 = E(E1 ⊕ H[8..16]); MAC = the first 8 hex chars of E2.
/// E is single DES with an 8-byte MAK, TDES with a 16/24-byte one. SM4 keys are refused.
///
/// ```
/// use pos_terminal::crypto::{SecretKey, cup_mac};
/// let mak = SecretKey::tdes(&[0xC2, 0x4A, 0x8F, 0xB5, 0x7A, 0xA2, 0x01, 0x23])?;
/// // A one-block MAB is its own XOR.
/// let mac = cup_mac(&mak, &[0x4D, 0x08, 0xF4, 0x34, 0x46, 0x4F, 0xE7, 0xBF])?;
/// assert_eq!(&mac, b"8A9E91B8");
/// # Ok::<(), pos_terminal::crypto::CryptoError>(())
/// ```
pub fn cup_mac(mak: &SecretKey, mab: &[u8]) -> Result<[u8; 8], CryptoError> {
    if mak.is_sm4() {
        return Err(CryptoError::Unsupported);
    }
    let mut r = [0u8; 8];
    for block in mab.chunks(8) {
        for (acc, b) in r.iter_mut().zip(block) {
            *acc ^= b;
        }
    }
    let h = hex8(&r);
    let mut e = [0u8; 8];
    e.copy_from_slice(&h[..8]);
    encrypt_ecb(mak, &mut e)?;
    for (x, y) in e.iter_mut().zip(&h[8..]) {
        *x ^= y;
    }
    encrypt_ecb(mak, &mut e)?;
    let hex = hex8(&e);
    let mut out = [0u8; 8];
    out.copy_from_slice(&hex[..8]);
    Ok(out)
}

/// Verifies a received CUP ECB MAC in constant time.
pub fn verify_cup_mac(mak: &SecretKey, mab: &[u8], received: &[u8]) -> Result<bool, CryptoError> {
    verify_mac(mak, MacAlgorithm::CupEcb, mab, received)
}

/// ANSI X9.19 retail MAC (ISO 9797-1 MAC algorithm 3, padding method 1): single-DES CBC-MAC
/// under the left key half, then decrypt with the right half and encrypt with the left. The MAK
/// must be a 16-byte TDES key. Field 64 = the 8 MAC bytes.
///
/// ```
/// use pos_terminal::crypto::{SecretKey, x919_mac};
/// // ISO/IEC 9797-1 Annex B: K = 0123456789ABCDEF, K' = FEDCBA9876543210.
/// let mak = SecretKey::tdes(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
///                             0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10])?;
/// let mac = x919_mac(&mak, b"Now is the time for all ")?;
/// assert_eq!(mac, [0xA1, 0xC7, 0x2E, 0x74, 0xEA, 0x3F, 0xA9, 0xB6]);
/// # Ok::<(), pos_terminal::crypto::CryptoError>(())
/// ```
pub fn x919_mac(mak: &SecretKey, mab: &[u8]) -> Result<[u8; 8], CryptoError> {
    let k = mak.expose();
    if mak.is_sm4() || k.len() != 16 {
        return Err(CryptoError::Unsupported);
    }
    let left = SecretKey::tdes(&k[..8])?;
    let right = SecretKey::tdes(&k[8..])?;
    let mut h = [0u8; 8];
    for block in mab.chunks(8) {
        for (acc, b) in h.iter_mut().zip(block) {
            *acc ^= b;
        }
        encrypt_ecb(&left, &mut h)?;
    }
    if mab.is_empty() {
        encrypt_ecb(&left, &mut h)?;
    }
    decrypt_ecb(&right, &mut h)?;
    encrypt_ecb(&left, &mut h)?;
    Ok(h)
}

/// SM4 CBC-MAC (ISO 9797-1 MAC algorithm 1 with SM4, zero padding to 16 bytes, IV 0) for
/// 国密 MAKs; field 64 = the first 8 bytes.
///
/// ```
/// use pos_terminal::crypto::{SecretKey, sm4_mac};
/// // GB/T 32907: SM4(K, P) with K = P = 0123456789ABCDEFFEDCBA9876543210 is 681EDF34D206965E…;
/// // a one-block CBC-MAC is that encryption.
/// let k = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10];
/// let mac = sm4_mac(&SecretKey::sm4(&k)?, &k)?;
/// assert_eq!(mac, [0x68, 0x1E, 0xDF, 0x34, 0xD2, 0x06, 0x96, 0x5E]);
/// # Ok::<(), pos_terminal::crypto::CryptoError>(())
/// ```
pub fn sm4_mac(mak: &SecretKey, mab: &[u8]) -> Result<[u8; 8], CryptoError> {
    if !mak.is_sm4() {
        return Err(CryptoError::Unsupported);
    }
    let mut h = [0u8; 16];
    for block in mab.chunks(16) {
        for (acc, b) in h.iter_mut().zip(block) {
            *acc ^= b;
        }
        encrypt_ecb(mak, &mut h)?;
    }
    if mab.is_empty() {
        encrypt_ecb(mak, &mut h)?;
    }
    let mut out = [0u8; 8];
    out.copy_from_slice(&h[..8]);
    Ok(out)
}

/// Field 64 for `mab` with the acquirer's algorithm.
pub fn mac(mak: &SecretKey, algorithm: MacAlgorithm, mab: &[u8]) -> Result<[u8; 8], CryptoError> {
    match algorithm {
        MacAlgorithm::CupEcb => cup_mac(mak, mab),
        MacAlgorithm::X919 => x919_mac(mak, mab),
        MacAlgorithm::Sm4Cbc => sm4_mac(mak, mab),
        _ => Err(CryptoError::Unsupported),
    }
}

/// Verifies a received field 64 in constant time.
pub fn verify_mac(
    mak: &SecretKey,
    algorithm: MacAlgorithm,
    mab: &[u8],
    received: &[u8],
) -> Result<bool, CryptoError> {
    let expected = mac(mak, algorithm, mab)?;
    if received.len() != 8 {
        return Ok(false);
    }
    Ok(expected
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tdes_key() -> SecretKey {
        SecretKey::tdes(&[
            0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54,
            0x32, 0x10,
        ])
        .expect("16 bytes")
    }

    #[test]
    fn x919_known_answers() {
        // Computed with an independent implementation (pycryptodome DES), the first one also
        // published in ISO/IEC 9797-1 Annex B.
        let k = tdes_key();
        assert_eq!(
            x919_mac(&k, b"Now is the time for all ").expect("mac"),
            [0xA1, 0xC7, 0x2E, 0x74, 0xEA, 0x3F, 0xA9, 0xB6]
        );
        assert_eq!(
            x919_mac(&k, b"Now is the time for it").expect("mac"),
            [0x2E, 0x2B, 0x14, 0x28, 0xCC, 0x78, 0x25, 0x4F]
        );
    }

    #[test]
    fn sm4_mac_known_answer_over_two_blocks() {
        // Computed with an independent implementation (gmssl SM4).
        let key = SecretKey::sm4(&[
            0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54,
            0x32, 0x10,
        ])
        .expect("16 bytes");
        assert_eq!(
            sm4_mac(&key, b"Now is the time for all ").expect("mac"),
            [0x73, 0x5A, 0x13, 0xD1, 0x2D, 0x64, 0x58, 0x8B]
        );
    }

    #[test]
    fn the_ecb_mac_is_forgeable_and_the_others_are_not() {
        // Swap two 8-byte blocks: the XOR of the blocks, and so the CUP ECB MAC, stays the
        // same; X9.19 and SM4 CBC-MAC chain the blocks and change.
        let a = *b"AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDD";
        let mut b = a;
        b[..8].copy_from_slice(b"BBBBBBBB");
        b[8..16].copy_from_slice(b"AAAAAAAA");
        let k = tdes_key();
        assert_eq!(cup_mac(&k, &a).expect("m"), cup_mac(&k, &b).expect("m"));
        assert_ne!(x919_mac(&k, &a).expect("m"), x919_mac(&k, &b).expect("m"));
        let sm4 = SecretKey::sm4(&[7; 16]).expect("k");
        assert_ne!(sm4_mac(&sm4, &a).expect("m"), sm4_mac(&sm4, &b).expect("m"));
    }

    #[test]
    fn keys_of_the_wrong_kind_are_refused() {
        let des = SecretKey::tdes(&[1; 8]).expect("k");
        assert_eq!(x919_mac(&des, b"x"), Err(CryptoError::Unsupported));
        assert_eq!(sm4_mac(&des, b"x"), Err(CryptoError::Unsupported));
        assert_eq!(
            cup_mac(&SecretKey::sm4(&[1; 16]).expect("k"), b"x"),
            Err(CryptoError::Unsupported)
        );
    }
}
