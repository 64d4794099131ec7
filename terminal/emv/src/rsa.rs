//! The raw RSA transform EMV uses: `data^e mod n` on a block as long as the modulus (ISO/IEC
//! 9796-2 recovery on the terminal side, signing on the simulated card).

use alloc::vec::Vec;

use num_bigint::BigUint;

/// Why a block could not be transformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaError {
    /// The block is not as long as the modulus.
    Length,
    /// The block, read as a number, is not below the modulus (or the modulus is zero).
    OutOfRange,
}

/// `block^exponent mod modulus`, big-endian, as long as the modulus. With the public
/// exponent this recovers a certificate or signature; with the private one it signs.
pub fn transform(modulus: &[u8], exponent: &[u8], block: &[u8]) -> Result<Vec<u8>, RsaError> {
    if block.len() != modulus.len() {
        return Err(RsaError::Length);
    }
    let n = BigUint::from_bytes_be(modulus);
    let m = BigUint::from_bytes_be(block);
    if n == BigUint::ZERO || m >= n {
        return Err(RsaError::OutOfRange);
    }
    let out = m
        .modpow(&BigUint::from_bytes_be(exponent), &n)
        .to_bytes_be();
    let mut padded = alloc::vec![0u8; modulus.len() - out.len()];
    padded.extend_from_slice(&out);
    Ok(padded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_rsa_round_trips() {
        // n = 61 * 53 = 3233, e = 17, d = 413 (the textbook example), as 2-byte blocks.
        let n = 3233u16.to_be_bytes();
        let signed = transform(&n, &[17], &65u16.to_be_bytes()).expect("encrypts");
        assert_eq!(signed, 2790u16.to_be_bytes());
        let back = transform(&n, &413u16.to_be_bytes(), &signed).expect("decrypts");
        assert_eq!(back, 65u16.to_be_bytes());
    }

    #[test]
    fn blocks_of_the_wrong_size_or_value_are_refused() {
        let n = 3233u16.to_be_bytes();
        assert_eq!(transform(&n, &[17], &[1]), Err(RsaError::Length));
        assert_eq!(
            transform(&n, &[17], &[0xFF, 0xFF]),
            Err(RsaError::OutOfRange)
        );
        assert_eq!(
            transform(&[0, 0], &[17], &[0, 1]),
            Err(RsaError::OutOfRange)
        );
    }
}
