//! The CUP "ECB" MAC (银联标准 MAC) over MTI..field 63 (notes/payments-cup-emv.md §2.7).

use super::{CryptoError, SecretKey, encrypt_ecb};

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

/// Verifies a received MAC in constant time.
pub fn verify_cup_mac(mak: &SecretKey, mab: &[u8], received: &[u8]) -> Result<bool, CryptoError> {
    let expected = cup_mac(mak, mab)?;
    if received.len() != 8 {
        return Ok(false);
    }
    Ok(expected
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0)
}
