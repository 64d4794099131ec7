//! BER-TLV as EMV uses it (EMV Book 3 Annex B): multi-byte tags, definite lengths up to
//! 4 bytes, zero-copy iteration, recursive search. Parsing never panics.

use core::fmt;

/// Why bytes are not valid BER-TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlvError {
    /// Input ends inside a tag.
    TruncatedTag {
        /// Offset of the tag.
        offset: usize,
    },
    /// Input ends inside a length field, or the length runs past the end.
    TruncatedValue {
        /// Offset of the element.
        offset: usize,
        /// Declared length.
        declared: usize,
    },
    /// A tag of more than 4 bytes.
    TagTooLong {
        /// Offset of the tag.
        offset: usize,
    },
    /// Indefinite length (`80`) or a length field of more than 4 bytes.
    InvalidLength {
        /// Offset of the element.
        offset: usize,
    },
    /// Nesting deeper than the search allows.
    TooDeep,
    /// The output buffer is too small.
    BufferTooSmall,
}

impl fmt::Display for TlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlvError::TruncatedTag { offset } => write!(f, "TLV tag truncated at offset {offset}"),
            TlvError::TruncatedValue { offset, declared } => {
                write!(
                    f,
                    "TLV at offset {offset} declares {declared} bytes past the end"
                )
            }
            TlvError::TagTooLong { offset } => write!(f, "TLV tag at offset {offset} too long"),
            TlvError::InvalidLength { offset } => {
                write!(f, "invalid TLV length at offset {offset}")
            }
            TlvError::TooDeep => f.write_str("TLV nesting too deep"),
            TlvError::BufferTooSmall => f.write_str("TLV output buffer too small"),
        }
    }
}

impl core::error::Error for TlvError {}

/// One element: the tag as a number (`0x9F36`), constructed flag and borrowed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Tag, big-endian (`0x5A`, `0x9F36`, `0xBF0C`).
    pub tag: u32,
    /// The value bytes.
    pub value: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// True when the tag says the value holds more TLV elements.
    pub fn is_constructed(&self) -> bool {
        let first = if self.tag > 0xFF_FFFF {
            self.tag >> 24
        } else if self.tag > 0xFFFF {
            self.tag >> 16
        } else if self.tag > 0xFF {
            self.tag >> 8
        } else {
            self.tag
        };
        first & 0x20 != 0
    }

    /// The children of a constructed element.
    pub fn children(&self) -> TlvIter<'a> {
        TlvIter::new(self.value)
    }
}

/// Iterates over the elements at one level. Yields an error once and then stops.
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    bytes: &'a [u8],
    at: usize,
    failed: bool,
}

impl<'a> TlvIter<'a> {
    /// Iterates over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            failed: false,
        }
    }

    fn read(&mut self) -> Result<Tlv<'a>, TlvError> {
        let start = self.at;
        let b = self.bytes;
        let mut i = start;
        let first = *b.get(i).ok_or(TlvError::TruncatedTag { offset: start })?;
        let mut tag = u32::from(first);
        i += 1;
        if first & 0x1F == 0x1F {
            loop {
                let next = *b.get(i).ok_or(TlvError::TruncatedTag { offset: start })?;
                if i - start >= 4 {
                    return Err(TlvError::TagTooLong { offset: start });
                }
                tag = (tag << 8) | u32::from(next);
                i += 1;
                if next & 0x80 == 0 {
                    break;
                }
            }
        }
        let len_byte = *b.get(i).ok_or(TlvError::TruncatedValue {
            offset: start,
            declared: 0,
        })?;
        i += 1;
        let len = if len_byte & 0x80 == 0 {
            usize::from(len_byte)
        } else {
            let n = usize::from(len_byte & 0x7F);
            if n == 0 || n > 4 {
                return Err(TlvError::InvalidLength { offset: start });
            }
            let field = b.get(i..i + n).ok_or(TlvError::TruncatedValue {
                offset: start,
                declared: 0,
            })?;
            i += n;
            field
                .iter()
                .fold(0usize, |acc, x| (acc << 8) | usize::from(*x))
        };
        let end = i.checked_add(len).filter(|e| *e <= b.len());
        let end = end.ok_or(TlvError::TruncatedValue {
            offset: start,
            declared: len,
        })?;
        self.at = end;
        Ok(Tlv {
            tag,
            value: &b[i..end],
        })
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        // EMV allows 00/FF padding between elements.
        while !self.failed && matches!(self.bytes.get(self.at), Some(0x00 | 0xFF)) {
            self.at += 1;
        }
        if self.failed || self.at >= self.bytes.len() {
            return None;
        }
        let item = self.read();
        self.failed = item.is_err();
        Some(item)
    }
}

const MAX_DEPTH: usize = 8;

/// Finds the first element with `tag`, searching constructed elements depth-first.
///
/// ```
/// use pos_hal::tlv::find;
/// // 6F { 84 "A0..", A5 { 50 "PBOC" } }
/// let fci = [0x6F, 0x0B, 0x84, 0x03, 0xA0, 0x00, 0x03, 0xA5, 0x04, 0x50, 0x02, b'P', b'B'];
/// assert_eq!(find(&fci, 0x50)?.map(|t| t.value), Some(&b"PB"[..]));
/// assert_eq!(find(&fci, 0x9F38)?, None);
/// assert!(find(&[0x6F, 0x05, 0x84], 0x84).is_err());
/// # Ok::<(), pos_hal::tlv::TlvError>(())
/// ```
pub fn find(bytes: &[u8], tag: u32) -> Result<Option<Tlv<'_>>, TlvError> {
    find_at(bytes, tag, 0)
}

fn find_at(bytes: &[u8], tag: u32, depth: usize) -> Result<Option<Tlv<'_>>, TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError::TooDeep);
    }
    for item in TlvIter::new(bytes) {
        let tlv = item?;
        if tlv.tag == tag {
            return Ok(Some(tlv));
        }
        if tlv.is_constructed()
            && let Some(found) = find_at(tlv.value, tag, depth + 1)?
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Checks that `bytes` is well-formed TLV all the way down.
pub fn validate(bytes: &[u8]) -> Result<(), TlvError> {
    validate_at(bytes, 0)
}

fn validate_at(bytes: &[u8], depth: usize) -> Result<(), TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError::TooDeep);
    }
    for item in TlvIter::new(bytes) {
        let tlv = item?;
        if tlv.is_constructed() {
            validate_at(tlv.value, depth + 1)?;
        }
    }
    Ok(())
}

/// Appends one element to `out`; on error (a tag over 4 bytes) `out` is left as it was.
///
/// ```
/// let mut out = vec![0x70];
/// pos_hal::tlv::push(&mut out, 0x9F36, &[0x00, 0x01])?;
/// assert_eq!(out, [0x70, 0x9F, 0x36, 0x02, 0x00, 0x01]);
/// # Ok::<(), pos_hal::tlv::TlvError>(())
/// ```
#[cfg(feature = "alloc")]
pub fn push(out: &mut alloc::vec::Vec<u8>, tag: u32, value: &[u8]) -> Result<(), TlvError> {
    let start = out.len();
    // 9 bytes cover any tag (4) and length field (5).
    out.resize(start + value.len() + 9, 0);
    match encode_into(tag, value, &mut out[start..]) {
        Ok(n) => {
            out.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// Writes one element into `out` and returns the bytes written.
///
/// ```
/// let mut buf = [0u8; 8];
/// let n = pos_hal::tlv::encode_into(0x9F36, &[0x00, 0x01], &mut buf)?;
/// assert_eq!(&buf[..n], &[0x9F, 0x36, 0x02, 0x00, 0x01]);
/// # Ok::<(), pos_hal::tlv::TlvError>(())
/// ```
pub fn encode_into(tag: u32, value: &[u8], out: &mut [u8]) -> Result<usize, TlvError> {
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take_while(|b| **b == 0).count().min(3);
    let tag_bytes = &tag_bytes[skip..];
    let len = value.len();
    let mut len_bytes = [0u8; 5];
    let len_field: &[u8] = match len {
        0..=0x7F => {
            len_bytes[0] = len as u8;
            &len_bytes[..1]
        }
        0x80..=0xFF => {
            len_bytes[..2].copy_from_slice(&[0x81, len as u8]);
            &len_bytes[..2]
        }
        0x100..=0xFFFF => {
            len_bytes[0] = 0x82;
            len_bytes[1..3].copy_from_slice(&(len as u16).to_be_bytes());
            &len_bytes[..3]
        }
        _ => {
            len_bytes[0] = 0x84;
            len_bytes[1..5].copy_from_slice(&(len as u32).to_be_bytes());
            &len_bytes[..5]
        }
    };
    let total = tag_bytes.len() + len_field.len() + len;
    let dst = out.get_mut(..total).ok_or(TlvError::BufferTooSmall)?;
    let (t, rest) = dst.split_at_mut(tag_bytes.len());
    t.copy_from_slice(tag_bytes);
    let (l, v) = rest.split_at_mut(len_field.len());
    l.copy_from_slice(len_field);
    v.copy_from_slice(value);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn parses_emv_record() {
        // 70 { 57 <track2>, 5F20 "ZHANG", 9F1F 00 }
        let rec = [
            0x70, 0x12, 0x57, 0x03, 0x62, 0x34, 0xD3, 0x5F, 0x20, 0x05, b'Z', b'H', b'A', b'N',
            b'G', 0x9F, 0x1F, 0x01, 0x00, 0x00,
        ];
        assert_eq!(
            find(&rec, 0x5F20).map(|t| t.map(|t| t.value)),
            Ok(Some(&b"ZHANG"[..]))
        );
        assert_eq!(
            find(&rec, 0x9F1F).map(|t| t.map(|t| t.value.len())),
            Ok(Some(1))
        );
        assert!(validate(&rec).is_ok());
    }

    #[test]
    fn malformed_tlv_is_a_typed_error() {
        assert_eq!(validate(&[0x9F]), Err(TlvError::TruncatedTag { offset: 0 }));
        assert_eq!(
            validate(&[0x5A]),
            Err(TlvError::TruncatedValue {
                offset: 0,
                declared: 0
            })
        );
        assert_eq!(
            validate(&[0x5A, 0x05, 1]),
            Err(TlvError::TruncatedValue {
                offset: 0,
                declared: 5
            })
        );
        assert_eq!(
            validate(&[0x5A, 0x80]),
            Err(TlvError::InvalidLength { offset: 0 })
        );
        assert_eq!(
            validate(&[0x9F, 0xFF, 0xFF, 0xFF, 0x01, 0x00]),
            Err(TlvError::TagTooLong { offset: 0 })
        );
        assert_eq!(
            validate(&[0x5A, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(TlvError::TruncatedValue {
                offset: 0,
                declared: 0xFFFF_FFFF
            })
        );
        // 70 nested 10 deep
        let mut deep: Vec<u8> = vec![0x5A, 0x00];
        for _ in 0..10 {
            let mut outer = vec![0x70, deep.len() as u8];
            outer.extend_from_slice(&deep);
            deep = outer;
        }
        assert_eq!(validate(&deep), Err(TlvError::TooDeep));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = validate(&bytes);
            let _ = find(&bytes, 0x9F36);
            for item in TlvIter::new(&bytes).take(300) {
                let _ = item;
            }
        }

        #[test]
        fn encode_then_parse_round_trips(
            tag in prop_oneof![0x41u32..0x5F, 0x9F01u32..0x9F7F, 0xDF8101u32..0xDF817F],
            value in proptest::collection::vec(any::<u8>(), 0..400)
        ) {
            let mut buf = vec![0u8; value.len() + 10];
            let n = encode_into(tag, &value, &mut buf).expect("fits");
            let mut it = TlvIter::new(&buf[..n]);
            let first = it.next();
            prop_assert_eq!(first, Some(Ok(Tlv { tag, value: &value })));
            prop_assert!(it.next().is_none());
        }
    }
}
