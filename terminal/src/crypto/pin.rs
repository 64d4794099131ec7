//! PIN blocks: ISO 9564 format 0 (ANSI X9.8 with PAN) under TDES, and its SM4 form.

use alloc::vec::Vec;

use pos_hal::Secret;
use zeroize::Zeroizing;

use super::{CryptoError, SecretKey, decrypt_ecb, encrypt_ecb};

/// A clear or encrypted PIN block (8 bytes TDES, 16 bytes SM4): zeroized on drop, redacted in
/// `Debug`; read it with `expose_secret()`.
pub type PinBlock = Secret<Vec<u8>>;

fn check_pin(pin: &[u8]) -> Result<(), CryptoError> {
    if !(4..=12).contains(&pin.len()) || !pin.iter().all(u8::is_ascii_digit) {
        return Err(CryptoError::Pin);
    }
    Ok(())
}

/// The 12 rightmost PAN digits without the check digit; a shorter PAN (12 digits) is right
/// justified and padded with `0` on the left (ISO 9564-1 format 0).
fn pan12(pan: &str) -> Result<[u8; 12], CryptoError> {
    let digits = pan.as_bytes();
    if !(12..=19).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
        return Err(CryptoError::Pan);
    }
    let body = &digits[..digits.len() - 1];
    let take = body.len().min(12);
    let mut out = [b'0'; 12];
    out[12 - take..].copy_from_slice(&body[body.len() - take..]);
    Ok(out)
}

fn build(pin: &[u8], pan: &str, size: usize) -> Result<PinBlock, CryptoError> {
    check_pin(pin)?;
    let pan = pan12(pan)?;
    let nibbles = size * 2;
    let mut pin_field: Vec<u8> = Vec::with_capacity(nibbles);
    pin_field.push(0);
    pin_field.push(pin.len() as u8);
    pin_field.extend(pin.iter().map(|d| d - b'0'));
    pin_field.resize(nibbles, 0x0F);
    let mut block = Secret::new(alloc::vec![0u8; size]);
    for (i, b) in block.expose_secret_mut().iter_mut().enumerate() {
        let p = (pin_field[2 * i] << 4) | pin_field[2 * i + 1];
        let pan_nibble = |k: usize| -> u8 {
            let pos = k.checked_sub(nibbles - 12);
            pos.map(|p| pan[p] - b'0').unwrap_or(0)
        };
        let a = (pan_nibble(2 * i) << 4) | pan_nibble(2 * i + 1);
        *b = p ^ a;
    }
    zeroize::Zeroize::zeroize(&mut pin_field);
    Ok(block)
}

/// The clear ISO 9564 format 0 block of `pin` (ASCII digits) for `pan` (all its digits).
///
/// ```
/// let block = pos_terminal::crypto::pin_block_iso0(b"123456", "6212345678901234567")?;
/// assert_eq!(block.expose_secret().as_slice(), &[0x06, 0x12, 0x62, 0x2E, 0x6F, 0xED, 0xCB, 0xA9]);
/// # Ok::<(), pos_terminal::crypto::CryptoError>(())
/// ```
pub fn pin_block_iso0(pin: &[u8], pan: &str) -> Result<PinBlock, CryptoError> {
    build(pin, pan, 8)
}

/// The 16-byte form for SM4 PIN keys: PIN field `0L PIN F…` over 32 nibbles, PAN field 20 zero
/// nibbles + the same 12 PAN digits.
pub fn pin_block_iso0_sm4(pin: &[u8], pan: &str) -> Result<PinBlock, CryptoError> {
    build(pin, pan, 16)
}

/// Encrypts a PIN for field 52 under the PIK (TDES: 8-byte block; SM4 key: 16-byte block).
pub fn encrypt_pin_block(pik: &SecretKey, pin: &[u8], pan: &str) -> Result<PinBlock, CryptoError> {
    let mut block = if pik.is_sm4() {
        pin_block_iso0_sm4(pin, pan)?
    } else {
        pin_block_iso0(pin, pan)?
    };
    encrypt_ecb(pik, block.expose_secret_mut())?;
    Ok(block)
}

/// Host side: decrypts field 52 and returns the PIN digits.
pub fn decrypt_pin_block(
    pik: &SecretKey,
    block: &[u8],
    pan: &str,
) -> Result<Secret<Vec<u8>>, CryptoError> {
    if block.len() != pik.block_size() {
        return Err(CryptoError::DataLength(block.len()));
    }
    let mut clear = Zeroizing::new(block.to_vec());
    decrypt_ecb(pik, &mut clear)?;
    let pan = pan12(pan)?;
    let nibbles = clear.len() * 2;
    let nib = |k: usize| -> u8 {
        let byte = clear[k / 2];
        let v = if k.is_multiple_of(2) {
            byte >> 4
        } else {
            byte & 0x0F
        };
        let p = k
            .checked_sub(nibbles - 12)
            .map(|p| pan[p] - b'0')
            .unwrap_or(0);
        v ^ p
    };
    if nib(0) != 0 {
        return Err(CryptoError::Pin);
    }
    let len = usize::from(nib(1));
    if !(4..=12).contains(&len) {
        return Err(CryptoError::Pin);
    }
    let mut pin = Secret::new(Vec::with_capacity(len));
    for k in 2..2 + len {
        let d = nib(k);
        if d > 9 {
            return Err(CryptoError::Pin);
        }
        pin.expose_secret_mut().push(b'0' + d);
    }
    if (2 + len..nibbles).any(|k| nib(k) != 0x0F) {
        return Err(CryptoError::Pin);
    }
    Ok(pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_block_that_is_not_one_block_is_an_error_not_a_panic() {
        let pik = SecretKey::tdes(&[0x11; 16]).expect("k");
        for len in [0, 1, 7, 9, 24] {
            assert!(
                decrypt_pin_block(&pik, &alloc::vec![0u8; len], "6212345678901232").is_err(),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn twelve_digit_pans_are_left_padded_as_iso_9564_says() {
        // PAN 123456789012 (12 digits, check digit 2): the 11 digits before it, right
        // justified and padded with one zero on the left.
        let block = pin_block_iso0(b"1234", "123456789012").expect("12-digit PAN");
        let pin_field = [0x04, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        let pan_field = [0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0x01];
        let want: Vec<u8> = pin_field
            .iter()
            .zip(pan_field)
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(block.expose_secret().as_slice(), want.as_slice());
        assert!(
            pin_block_iso0(b"1234", "12345678901").is_err(),
            "under 12 digits is no PAN"
        );
    }

    /// A published SM4 example (blog.csdn.net/M_Kerry/article/details/104625499, "SM4 ECB模式 +
    /// ANSI X9.8 格式标准(带主账号信息)"): test TMK, a working key as the sign-in delivers it
    /// with its 8-byte check value, and the 16-byte clear PIN block of PIN 123654.
    #[test]
    fn sm4_pin_block_and_working_key_match_the_published_example() {
        let block = pin_block_iso0_sm4(b"123654", "6230606601007726888").expect("block");
        assert_eq!(
            hex::encode_upper(block.expose_secret().as_slice()),
            "06123654FFFFFFFFFFFF99FEFF88D977"
        );
        let tmk = SecretKey::sm4(&hex::decode("1234567890ABCDEFABCDEF0987654321").expect("hex"))
            .expect("tmk");
        let mut pik = hex::decode("3D66234C49E4296FF9C78D8BACBD6A76").expect("hex");
        crate::crypto::decrypt_ecb(&tmk, &mut pik).expect("unwrap");
        let pik = SecretKey::sm4(&pik).expect("pik");
        let mut check = [0u8; 16];
        crate::crypto::encrypt_ecb(&pik, &mut check).expect("kcv");
        assert_eq!(hex::encode_upper(&check[..8]), "861E83E31FAEBF10");
        assert_eq!(
            crate::crypto::kcv(&pik).expect("kcv"),
            [0x86, 0x1E, 0x83, 0xE3]
        );
    }

    #[test]
    fn encrypt_decrypt_round_trip_tdes_and_sm4() {
        let pik = SecretKey::tdes(&hex::decode("11223344556677888877665544332211").expect("hex"))
            .expect("k");
        let block = encrypt_pin_block(&pik, b"123456", "6212345678901232").expect("enc");
        assert_eq!(block.expose_secret().len(), 8);
        assert_eq!(
            decrypt_pin_block(&pik, block.expose_secret(), "6212345678901232")
                .expect("dec")
                .expose_secret()
                .as_slice(),
            b"123456"
        );
        let sm4 = SecretKey::sm4(&hex::decode("0123456789ABCDEFFEDCBA9876543210").expect("hex"))
            .expect("k");
        let block = encrypt_pin_block(&sm4, b"1234", "6212345678901232").expect("enc");
        assert_eq!(block.expose_secret().len(), 16);
        assert_eq!(
            decrypt_pin_block(&sm4, block.expose_secret(), "6212345678901232")
                .expect("dec")
                .expose_secret()
                .as_slice(),
            b"1234"
        );
        // Wrong PAN → the block does not decode to a PIN (or to another one).
        let other = decrypt_pin_block(
            &pik,
            encrypt_pin_block(&pik, b"1234", "6212345678901232")
                .expect("e")
                .expose_secret(),
            "4761739001010010",
        );
        assert!(
            other
                .map(|p| p.expose_secret().as_slice() != b"1234")
                .unwrap_or(true)
        );
    }

    #[test]
    fn bad_pins_and_pans() {
        assert_eq!(
            pin_block_iso0(b"123", "6212345678901232").err(),
            Some(CryptoError::Pin)
        );
        assert_eq!(
            pin_block_iso0(b"1234567890123", "6212345678901232").err(),
            Some(CryptoError::Pin)
        );
        assert_eq!(
            pin_block_iso0(b"12a4", "6212345678901232").err(),
            Some(CryptoError::Pin)
        );
        // 12 digits is a valid PAN (left-padded, see above); 11 is not.
        assert_eq!(
            pin_block_iso0(b"1234", "12345678901").err(),
            Some(CryptoError::Pan)
        );
    }
}
