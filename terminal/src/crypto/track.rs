//! Track data encryption with the TDK (field 53 digit 3 = 1; notes/payments-cup-emv.md §2.9):
//! the 8 bytes ending one byte before the end of the packed track are encrypted in place.

use alloc::string::String;
use alloc::vec::Vec;

use super::{CryptoError, SecretKey, decrypt_ecb, encrypt_ecb};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn pack(track: &str) -> Result<(Vec<u8>, usize), CryptoError> {
    let mut nibbles: Vec<u8> = Vec::with_capacity(track.len() + 1);
    for c in track.bytes() {
        nibbles.push(match c {
            b'0'..=b'9' => c - b'0',
            b'=' | b'D' => 0x0D,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(CryptoError::Track),
        });
    }
    let digits = nibbles.len();
    if digits % 2 == 1 {
        nibbles.push(0);
    }
    Ok((
        nibbles.chunks(2).map(|p| (p[0] << 4) | p[1]).collect(),
        digits,
    ))
}

fn unpack(bytes: &[u8], digits: usize) -> String {
    bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .take(digits)
        .map(|n| char::from(HEX[usize::from(n)]))
        .collect()
}

fn transform(tdk: &SecretKey, track: &str, encrypt: bool) -> Result<String, CryptoError> {
    let (mut packed, digits) = pack(track)?;
    if packed.len() < 9 {
        // Too short to have 8 bytes before the last one: there is nothing to encrypt, and
        // sending it as is would put track data on the wire in clear.
        zeroize::Zeroize::zeroize(&mut packed);
        return Err(CryptoError::TrackTooShort(digits));
    }
    let end = packed.len() - 1;
    let block = &mut packed[end - 8..end];
    if encrypt {
        encrypt_ecb(tdk, block)?
    } else {
        decrypt_ecb(tdk, block)?
    };
    let out = unpack(&packed, digits);
    zeroize::Zeroize::zeroize(&mut packed);
    Ok(out)
}

/// Encrypts track 2/3 data (`digits=digits`) for field 35/36; the result is hex digits of the
/// same length (`D` stands for `=` where untouched).
pub fn encrypt_track(tdk: &SecretKey, track: &str) -> Result<String, CryptoError> {
    transform(tdk, track, true)
}

/// Host side: the inverse of [`encrypt_track`].
pub fn decrypt_track(tdk: &SecretKey, track: &str) -> Result<String, CryptoError> {
    transform(tdk, track, false)
        .map(|t| t.chars().map(|c| if c == 'D' { '=' } else { c }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_length_and_ends() {
        let tdk = SecretKey::tdes(&hex::decode("0123456789ABCDEFFEDCBA9876543210").expect("hex"))
            .expect("k");
        let track = "6212345678901232=30122200000000000";
        let enc = encrypt_track(&tdk, track).expect("enc");
        assert_eq!(enc.len(), track.len());
        assert_ne!(enc, track);
        assert_eq!(&enc[..2], "62", "the first digits stay in clear");
        assert_eq!(decrypt_track(&tdk, &enc).expect("dec"), track);
        assert_eq!(encrypt_track(&tdk, "12x"), Err(CryptoError::Track));
    }

    #[test]
    fn a_track_too_short_to_encrypt_is_refused_not_sent_in_clear() {
        let tdk = SecretKey::tdes(&[0x22; 16]).expect("k");
        let short = "6212345678901232";
        assert_eq!(
            encrypt_track(&tdk, short),
            Err(CryptoError::TrackTooShort(16))
        );
        assert!(encrypt_track(&tdk, "621234567890123=3012").is_ok());
    }
}
