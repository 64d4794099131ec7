//! Exchanging APDUs with the card: GET RESPONSE for `61xx`, a resend for `6Cxx` (T=0 cards
//! behind readers that leave it to the application), bounded so a card cannot loop us.

use alloc::vec::Vec;

use pos_hal::{Apdu, CardChannel, Error as _, StatusWord};

use crate::error::EmvError;

/// The most a chained answer may total: no EMV answer comes near it.
const MAX_ANSWER: usize = 4096;

/// A card answer: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Response data.
    pub data: Vec<u8>,
    /// Status word.
    pub sw: StatusWord,
}

/// Sends `apdu`, following `61xx` and `6Cxx`.
pub fn exchange<C: CardChannel + ?Sized>(
    card: &mut C,
    apdu: &Apdu<'_>,
) -> Result<Answer, EmvError> {
    let mut buf = alloc::vec![0u8; 258];
    let first = card
        .transmit(apdu, &mut buf)
        .map_err(|e| EmvError::Reader(e.kind()))?;
    let (mut data, mut sw) = (first.data.to_vec(), first.sw);
    if let Some(ne) = sw.exact_length() {
        let again = Apdu {
            le: Some(ne as u32),
            ..*apdu
        };
        let r = card
            .transmit(&again, &mut buf)
            .map_err(|e| EmvError::Reader(e.kind()))?;
        (data, sw) = (r.data.to_vec(), r.sw);
    }
    while let Some(available) = sw.bytes_available() {
        let get = Apdu::new(0x00, 0xC0, 0x00, 0x00).with_le(available as u32);
        let r = card
            .transmit(&get, &mut buf)
            .map_err(|e| EmvError::Reader(e.kind()))?;
        data.extend_from_slice(r.data);
        sw = r.sw;
        if data.len() > MAX_ANSWER {
            return Err(EmvError::CardOutOfOrder("an answer that never ends"));
        }
    }
    Ok(Answer { data, sw })
}
