//! Block cipher primitives: DES, 2/3-key TDES (EDE), SM4, all ECB.

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::{Des, TdesEde2, TdesEde3};
use sm4::Sm4;

use super::{CryptoError, SecretKey};

enum Engine {
    Des(Des),
    Tdes2(TdesEde2),
    Tdes3(TdesEde3),
    Sm4(Sm4),
}

fn engine(key: &SecretKey) -> Result<Engine, CryptoError> {
    let k = key.expose();
    let bad = |_| CryptoError::KeyLength(k.len());
    Ok(match (key.is_sm4(), k.len()) {
        (true, 16) => Engine::Sm4(Sm4::new_from_slice(k).map_err(bad)?),
        (false, 8) => Engine::Des(Des::new_from_slice(k).map_err(bad)?),
        (false, 16) => Engine::Tdes2(TdesEde2::new_from_slice(k).map_err(bad)?),
        (false, 24) => Engine::Tdes3(TdesEde3::new_from_slice(k).map_err(bad)?),
        (_, n) => return Err(CryptoError::KeyLength(n)),
    })
}

fn run(key: &SecretKey, data: &mut [u8], encrypt: bool) -> Result<(), CryptoError> {
    let bs = key.block_size();
    if !data.len().is_multiple_of(bs) {
        return Err(CryptoError::DataLength(data.len()));
    }
    let e = engine(key)?;
    for block in data.chunks_exact_mut(bs) {
        match (&e, encrypt) {
            (Engine::Des(c), true) => c.encrypt_block(GenericArray::from_mut_slice(block)),
            (Engine::Des(c), false) => c.decrypt_block(GenericArray::from_mut_slice(block)),
            (Engine::Tdes2(c), true) => c.encrypt_block(GenericArray::from_mut_slice(block)),
            (Engine::Tdes2(c), false) => c.decrypt_block(GenericArray::from_mut_slice(block)),
            (Engine::Tdes3(c), true) => c.encrypt_block(GenericArray::from_mut_slice(block)),
            (Engine::Tdes3(c), false) => c.decrypt_block(GenericArray::from_mut_slice(block)),
            (Engine::Sm4(c), true) => c.encrypt_block(GenericArray::from_mut_slice(block)),
            (Engine::Sm4(c), false) => c.decrypt_block(GenericArray::from_mut_slice(block)),
        }
    }
    Ok(())
}

/// Encrypts whole blocks in place (ECB).
///
/// ```
/// use pos_terminal::crypto::{SecretKey, encrypt_ecb};
/// let tmk = SecretKey::tdes(&[0x70, 0xF2, 0xA8, 0x4C, 0xCB, 0xC2, 0xAE, 0x86, 0x25, 0xCB, 0xB0, 0xF2, 0xC2, 0x2A, 0xB9, 0x23])?;
/// let mut block = [0xC2, 0x4A, 0x8F, 0xB5, 0x7A, 0xA2, 0x01, 0x23];
/// encrypt_ecb(&tmk, &mut block)?;
/// assert_eq!(block, [0x96, 0xD6, 0x05, 0xEA, 0x17, 0x6B, 0x7E, 0x9E]);
/// # Ok::<(), pos_terminal::crypto::CryptoError>(())
/// ```
pub fn encrypt_ecb(key: &SecretKey, data: &mut [u8]) -> Result<(), CryptoError> {
    run(key, data, true)
}

/// Decrypts whole blocks in place (ECB).
pub fn decrypt_ecb(key: &SecretKey, data: &mut [u8]) -> Result<(), CryptoError> {
    run(key, data, false)
}

/// Key check value: the first 4 bytes of the key's encryption of a zero block.
pub fn kcv(key: &SecretKey) -> Result<[u8; 4], CryptoError> {
    let mut zero = [0u8; 16];
    let bs = key.block_size();
    encrypt_ecb(key, &mut zero[..bs])?;
    Ok([zero[0], zero[1], zero[2], zero[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> std::vec::Vec<u8> {
        hex::decode(s).expect("hex")
    }

    #[test]
    fn known_answer_vectors() {
        // FIPS 46 worked example.
        let des = SecretKey::tdes(&h("133457799BBCDFF1")).expect("key");
        let mut b = h("0123456789ABCDEF");
        encrypt_ecb(&des, &mut b).expect("enc");
        assert_eq!(b, h("85E813540F0AB405"));
        decrypt_ecb(&des, &mut b).expect("dec");
        assert_eq!(b, h("0123456789ABCDEF"));
        // TDES under a CUP TMK (notes/payments-cup-emv.md §2.6).
        let tmk = SecretKey::tdes(&h("70F2A84CCBC2AE8625CBB0F2C22AB923")).expect("key");
        let mut b = h("C24A8FB57AA20123");
        encrypt_ecb(&tmk, &mut b).expect("enc");
        assert_eq!(b, h("96D605EA176B7E9E"));
        // 3-key TDES with K1=K2=K3 degenerates to DES.
        let k3 =
            SecretKey::tdes(&h("133457799BBCDFF1133457799BBCDFF1133457799BBCDFF1")).expect("key");
        let mut b = h("0123456789ABCDEF");
        encrypt_ecb(&k3, &mut b).expect("enc");
        assert_eq!(b, h("85E813540F0AB405"));
        // SM4, GB/T 32907 example 1.
        let sm4 = SecretKey::sm4(&h("0123456789ABCDEFFEDCBA9876543210")).expect("key");
        let mut b = h("0123456789ABCDEFFEDCBA9876543210");
        encrypt_ecb(&sm4, &mut b).expect("enc");
        assert_eq!(b, h("681EDF34D206965E86B3E94F536E4246"));
    }

    #[test]
    fn check_values_and_errors() {
        let mak = SecretKey::tdes(&h("C24A8FB57AA20123")).expect("key");
        assert_eq!(kcv(&mak).expect("kcv").to_vec(), h("0547DB3E"));
        assert_eq!(
            SecretKey::tdes(&[0; 7]).err(),
            Some(CryptoError::KeyLength(7))
        );
        assert_eq!(
            SecretKey::sm4(&[0; 8]).err(),
            Some(CryptoError::KeyLength(8))
        );
        let mut odd = [0u8; 7];
        assert_eq!(encrypt_ecb(&mak, &mut odd), Err(CryptoError::DataLength(7)));
        assert!(!std::format!("{mak:?}").contains("C2"));
    }
}
