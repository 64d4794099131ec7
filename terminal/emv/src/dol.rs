//! Data object lists (PDOL, CDOL1/2, DDOL, TDOL): the card names tags and lengths, the
//! terminal answers with the values concatenated, each padded or cut to the asked length
//! (EMV Book 3 §5.4).

use alloc::vec::Vec;

use crate::error::EmvError;
use crate::tags::{Format, format_of};

/// One entry of a DOL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DolEntry {
    /// The tag asked for.
    pub tag: u32,
    /// The length the card wants.
    pub len: usize,
}

/// The most a DOL may ask for: a short APDU carries 255 bytes, and the GPO wraps the data
/// in a `83` template.
pub const MAX_DOL_DATA: usize = 252;

/// The value of packed BCD digits (an amount `n12`, a balance); a nibble over 9 counts as 9.
///
/// ```
/// assert_eq!(pos_emv::dol::bcd_value(&[0x00, 0x01, 0x00, 0x00]), 10_000);
/// ```
pub fn bcd_value(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| {
        acc.saturating_mul(100)
            .saturating_add(u64::from((b >> 4).min(9)) * 10 + u64::from((b & 0x0F).min(9)))
    })
}

/// An amount as the 12-digit BCD (`n12`) of 9F02/9F03; amounts of 13 digits and more keep
/// their last 12 (callers refuse them first).
///
/// ```
/// assert_eq!(pos_emv::dol::n12(3000), [0, 0, 0, 0, 0x30, 0x00]);
/// ```
pub fn n12(amount: u64) -> [u8; 6] {
    let mut out = [0u8; 6];
    let mut v = amount % 1_000_000_000_000;
    for b in out.iter_mut().rev() {
        *b = ((((v / 10) % 10) as u8) << 4) | ((v % 10) as u8);
        v /= 100;
    }
    out
}

/// Parses a DOL (tags and lengths, no values). A truncated entry is an error, never a guess.
pub fn parse(dol: &[u8]) -> Result<Vec<DolEntry>, EmvError> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut total = 0usize;
    while i < dol.len() {
        let start = i;
        let mut tag = u32::from(dol[i]);
        i += 1;
        if dol[start] & 0x1F == 0x1F {
            loop {
                let b = *dol.get(i).ok_or(EmvError::Dol)?;
                if i - start >= 4 {
                    return Err(EmvError::Dol);
                }
                tag = (tag << 8) | u32::from(b);
                i += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let len = usize::from(*dol.get(i).ok_or(EmvError::Dol)?);
        i += 1;
        total += len;
        if total > MAX_DOL_DATA {
            return Err(EmvError::Dol);
        }
        out.push(DolEntry { tag, len });
    }
    Ok(out)
}

/// Fits `value` into `len` bytes as the tag's format says.
pub fn fit(tag: u32, value: &[u8], len: usize, out: &mut Vec<u8>) {
    let n = value.len();
    match format_of(tag) {
        Format::Numeric if n >= len => out.extend_from_slice(&value[n - len..]),
        Format::Numeric => {
            out.resize(out.len() + (len - n), 0);
            out.extend_from_slice(value);
        }
        Format::CompressedNumeric if n >= len => out.extend_from_slice(&value[..len]),
        Format::CompressedNumeric => {
            out.extend_from_slice(value);
            out.resize(out.len() + (len - n), 0xFF);
        }
        Format::Binary | Format::Text if n >= len => out.extend_from_slice(&value[..len]),
        Format::Binary | Format::Text => {
            out.extend_from_slice(value);
            out.resize(out.len() + (len - n), 0);
        }
    }
}

/// Builds the data for `dol`, asking `value` for each tag; a tag the terminal does not know
/// is sent as zeros of the asked length (Book 3 §5.4).
pub fn build<'v>(dol: &[DolEntry], mut value: impl FnMut(u32) -> Option<&'v [u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(dol.iter().map(|e| e.len).sum());
    for entry in dol {
        match value(entry.tag) {
            Some(v) => fit(entry.tag, v, entry.len, &mut out),
            None => out.resize(out.len() + entry.len, 0),
        }
    }
    out
}

/// Splits DOL data back into values by tag (the card side, and the kernel when it must know
/// what it sent).
pub fn split<'d>(dol: &[DolEntry], data: &'d [u8]) -> Result<Vec<(u32, &'d [u8])>, EmvError> {
    let mut out = Vec::with_capacity(dol.len());
    let mut at = 0;
    for entry in dol {
        let value = data.get(at..at + entry.len).ok_or(EmvError::Dol)?;
        out.push((entry.tag, value));
        at += entry.len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_single_and_multi_byte_tags() {
        let dol = parse(&[0x9F, 0x02, 0x06, 0x95, 0x05, 0x9F, 0x37, 0x04]).expect("dol");
        assert_eq!(
            dol,
            [
                DolEntry {
                    tag: 0x9F02,
                    len: 6
                },
                DolEntry { tag: 0x95, len: 5 },
                DolEntry {
                    tag: 0x9F37,
                    len: 4
                }
            ]
        );
    }

    #[test]
    fn a_truncated_dol_is_an_error() {
        assert_eq!(parse(&[0x9F, 0x02]), Err(EmvError::Dol));
        assert_eq!(parse(&[0x9F]), Err(EmvError::Dol));
        assert_eq!(
            parse(&[0x9F, 0x82, 0x83, 0x84, 0x05, 0x01]),
            Err(EmvError::Dol)
        );
        assert_eq!(parse(&[0x95, 0xFF, 0x9F, 0x02, 0xFF]), Err(EmvError::Dol));
    }

    #[test]
    fn values_are_padded_and_cut_by_format() {
        let dol = parse(&[
            0x9F, 0x02, 0x08, 0x9F, 0x02, 0x04, 0x5A, 0x0A, 0x95, 0x03, 0xDF, 0x01, 0x02,
        ])
        .expect("dol");
        let amount = [0x00, 0x00, 0x00, 0x00, 0x12, 0x34];
        let pan = [0x62, 0x12, 0x34];
        let tvr = [1, 2, 3, 4, 5];
        let data = build(&dol, |tag| match tag {
            0x9F02 => Some(&amount[..]),
            0x5A => Some(&pan[..]),
            0x95 => Some(&tvr[..]),
            _ => None,
        });
        assert_eq!(
            hex::encode_upper(&data),
            "0000000000001234\
             00001234\
             621234FFFFFFFFFFFFFF\
             010203\
             0000"
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(dol) = parse(&bytes) {
                let data = build(&dol, |_| None);
                prop_assert_eq!(data.len(), dol.iter().map(|e| e.len).sum::<usize>());
                prop_assert!(data.len() <= MAX_DOL_DATA);
                prop_assert_eq!(split(&dol, &data)?.len(), dol.len());
            }
        }
    }
}
