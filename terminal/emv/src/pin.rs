//! What a PIN pad does for a PIN the card checks itself (EMV offline PIN, Book 2 §7): the
//! ISO 9564 format 2 block and, for an enciphered PIN, `7F ‖ block ‖ challenge ‖ padding`
//! under the card's key. A secure PIN pad does this inside; a software PIN pad (a test bench,
//! the demo) calls [`offline_pin_data`].

use pos_hal::{CardPinKey, OfflinePinData};
use zeroize::Zeroizing;

use crate::error::EmvError;

/// The ISO 9564 format 2 block `2L PPPP…F` of 4 to 12 ASCII digits.
///
/// ```
/// let block = pos_emv::pin::format2_block(b"1234").unwrap();
/// assert_eq!(*block, [0x24, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
/// ```
pub fn format2_block(digits: &[u8]) -> Result<Zeroizing<[u8; 8]>, EmvError> {
    if !(4..=12).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
        return Err(EmvError::InvalidInput("a PIN is 4 to 12 digits"));
    }
    let mut block = Zeroizing::new([0xFFu8; 8]);
    block[0] = 0x20 | digits.len() as u8;
    for (i, d) in digits.iter().enumerate() {
        let nibble = d - b'0';
        let byte = &mut block[1 + i / 2];
        *byte = if i % 2 == 0 {
            (nibble << 4) | 0x0F
        } else {
            (*byte & 0xF0) | nibble
        };
    }
    Ok(block)
}

/// Whether `modulus` can carry `7F ‖ block ‖ challenge` and some padding, and the message
/// stays below it (its first byte is at least `80`).
pub fn usable_pin_key(modulus: &[u8]) -> bool {
    modulus.len() >= 17 + 8 && modulus.first().is_some_and(|b| *b >= 0x80)
}

/// The VERIFY data for `digits`: the plaintext block when `encipher` is `None`, else the
/// block enciphered for the card under its key and challenge. `random` is fresh random bytes
/// of the PIN pad: the padding is derived from them (SHA-1 in counter mode), so that nobody
/// who sees the VERIFY can test PIN guesses against it.
///
/// ```
/// let data = pos_emv::pin::offline_pin_data(b"1234", None, &[0; 32]).unwrap();
/// assert!(!data.enciphered);
/// assert_eq!(data.reveal()[0], 0x24);
/// assert!(!format!("{data:?}").contains("24"), "redacted");
/// ```
pub fn offline_pin_data(
    digits: &[u8],
    encipher: Option<CardPinKey<'_>>,
    random: &[u8; 32],
) -> Result<OfflinePinData, EmvError> {
    let block = format2_block(digits)?;
    let Some(key) = encipher else {
        return OfflinePinData::new(&block[..], false)
            .ok_or(EmvError::InvalidInput("a PIN block is 8 bytes"));
    };
    if !usable_pin_key(key.modulus) {
        return Err(EmvError::InvalidInput(
            "the card's PIN key cannot carry an enciphered PIN",
        ));
    }
    let mut message = Zeroizing::new(alloc::vec![0u8; key.modulus.len()]);
    message[0] = 0x7F;
    message[1..9].copy_from_slice(&block[..]);
    message[9..17].copy_from_slice(&key.challenge);
    for (counter, chunk) in message[17..].chunks_mut(20).enumerate() {
        use sha1::{Digest, Sha1};
        let digest = Sha1::new()
            .chain_update(random)
            .chain_update((counter as u32).to_be_bytes())
            .finalize();
        chunk.copy_from_slice(&digest[..chunk.len()]);
    }
    let enciphered = crate::rsa::transform(key.modulus, key.exponent, &message)
        .map_err(|_| EmvError::InvalidInput("the card's PIN key cannot carry an enciphered PIN"))?;
    OfflinePinData::new(&enciphered, true).ok_or(EmvError::InvalidInput(
        "an enciphered PIN is at most 256 bytes",
    ))
}
