//! ISO 7816-3 Answer To Reset: TS, T0, interface bytes TA–TD, historical bytes, TCK.

use core::fmt;

/// Longest ATR ISO 7816-3 allows.
pub const MAX_ATR_LEN: usize = 33;

/// Why bytes are not an ATR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AtrError {
    /// No bytes at all (a mute card).
    Empty,
    /// TS is neither `3B` (direct) nor `3F` (inverse convention).
    InvalidTs(u8),
    /// The ATR ends before the interface/historical/TCK bytes that T0/TDi announce.
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes given.
        len: usize,
    },
    /// More than 33 bytes, or bytes after the announced end.
    TooLong {
        /// Bytes given.
        len: usize,
    },
    /// The check byte does not make the XOR of T0..TCK zero.
    TckMismatch {
        /// TCK as received.
        received: u8,
        /// TCK that would be correct.
        expected: u8,
    },
}

impl fmt::Display for AtrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AtrError::Empty => f.write_str("empty ATR (mute card)"),
            AtrError::InvalidTs(ts) => write!(f, "invalid ATR initial byte TS={ts:02X}"),
            AtrError::Truncated { needed, len } => {
                write!(
                    f,
                    "ATR truncated: structure needs {needed} bytes, got {len}"
                )
            }
            AtrError::TooLong { len } => write!(f, "ATR of {len} bytes is longer than announced"),
            AtrError::TckMismatch { received, expected } => {
                write!(
                    f,
                    "ATR check byte TCK={received:02X}, expected {expected:02X}"
                )
            }
        }
    }
}

impl core::error::Error for AtrError {}

/// Bit order convention announced by TS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// TS = `3B`.
    Direct,
    /// TS = `3F`.
    Inverse,
}

/// The set of protocols (T=0..T=15) indicated by the ATR.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Protocols(u16);

impl Protocols {
    /// T=0 only.
    pub const T0: Self = Self(1);
    /// T=1 only.
    pub const T1: Self = Self(1 << 1);

    /// Adds protocol `t` (0..=15).
    pub const fn with(self, t: u8) -> Self {
        Self(self.0 | (1 << (t & 0x0F)))
    }
    /// True if T=`t` is offered.
    pub const fn offers(self, t: u8) -> bool {
        t < 16 && self.0 & (1 << t) != 0
    }
    /// True if T=0 is offered.
    pub const fn t0(self) -> bool {
        self.offers(0)
    }
    /// True if T=1 is offered.
    pub const fn t1(self) -> bool {
        self.offers(1)
    }
    /// Raw bit set, bit n = T=n.
    pub const fn bits(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for Protocols {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_set();
        for t in 0..16u8 {
            if self.offers(t) {
                list.entry(&format_args!("T={t}"));
            }
        }
        list.finish()
    }
}

/// A parsed, validated ATR stored inline (no heap).
///
/// ```
/// use pos_hal::Atr;
/// let atr = Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01])?;
/// assert!(atr.protocols().t1());
/// assert!(atr.protocols().t0()); // TD1 announces T=0, TD2 T=1
/// assert_eq!(atr.historical_bytes(), &[] as &[u8]);
/// assert_eq!(atr.to_string(), "3B 80 80 01 01");
/// # Ok::<(), pos_hal::AtrError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Atr {
    bytes: [u8; MAX_ATR_LEN],
    len: u8,
    historical_start: u8,
    historical_len: u8,
    protocols: Protocols,
    ta1: Option<u8>,
    tc1: Option<u8>,
    has_tck: bool,
}

impl Atr {
    /// Parses and validates an ATR (structure, length and TCK).
    pub fn parse(bytes: &[u8]) -> Result<Self, AtrError> {
        let len = bytes.len();
        let ts = *bytes.first().ok_or(AtrError::Empty)?;
        if ts != 0x3B && ts != 0x3F {
            return Err(AtrError::InvalidTs(ts));
        }
        let t0 = *bytes.get(1).ok_or(AtrError::Truncated { needed: 2, len })?;
        let historical_len = usize::from(t0 & 0x0F);
        let mut y = t0 >> 4;
        let mut at = 2;
        let mut index = 1;
        let mut protocols = Protocols::default();
        let mut any_td = false;
        let mut needs_tck = false;
        let mut ta1 = None;
        let mut tc1 = None;
        loop {
            let count = y.count_ones() as usize;
            if at + count > len {
                return Err(AtrError::Truncated {
                    needed: at + count,
                    len,
                });
            }
            let mut field = at;
            if y & 0x1 != 0 {
                if index == 1 {
                    ta1 = Some(bytes[field]);
                }
                field += 1;
            }
            if y & 0x2 != 0 {
                field += 1;
            }
            if y & 0x4 != 0 {
                if index == 1 {
                    tc1 = Some(bytes[field]);
                }
                field += 1;
            }
            at += count;
            if y & 0x8 == 0 {
                break;
            }
            let td = bytes[field];
            any_td = true;
            let t = td & 0x0F;
            protocols = protocols.with(t);
            if t != 0 {
                needs_tck = true;
            }
            y = td >> 4;
            index += 1;
        }
        if !any_td {
            protocols = Protocols::T0;
        }
        let historical_start = at;
        let end = at + historical_len + usize::from(needs_tck);
        if end > len {
            return Err(AtrError::Truncated { needed: end, len });
        }
        if len > end || len > MAX_ATR_LEN {
            return Err(AtrError::TooLong { len });
        }
        if needs_tck {
            let xor = bytes[1..end - 1].iter().fold(0u8, |acc, b| acc ^ b);
            let received = bytes[end - 1];
            if xor != received {
                return Err(AtrError::TckMismatch {
                    received,
                    expected: xor,
                });
            }
        }
        let mut stored = [0; MAX_ATR_LEN];
        stored[..len].copy_from_slice(bytes);
        Ok(Self {
            bytes: stored,
            len: len as u8,
            historical_start: historical_start as u8,
            historical_len: historical_len as u8,
            protocols,
            ta1,
            tc1,
            has_tck: needs_tck,
        })
    }

    /// The raw ATR bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Direct or inverse convention.
    pub fn convention(&self) -> Convention {
        if self.bytes[0] == 0x3F {
            Convention::Inverse
        } else {
            Convention::Direct
        }
    }

    /// Protocols the card offers (T=0 when no TD1 is present).
    pub fn protocols(&self) -> Protocols {
        self.protocols
    }

    /// The historical bytes (card/OS identification).
    pub fn historical_bytes(&self) -> &[u8] {
        let start = usize::from(self.historical_start);
        &self.bytes[start..start + usize::from(self.historical_len)]
    }

    /// The interface bytes between T0 and the historical bytes.
    pub fn interface_bytes(&self) -> &[u8] {
        &self.bytes[2..usize::from(self.historical_start)]
    }

    /// TA1 (Fi/Di), if present.
    pub fn ta1(&self) -> Option<u8> {
        self.ta1
    }

    /// TC1 (extra guard time), if present.
    pub fn tc1(&self) -> Option<u8> {
        self.tc1
    }

    /// The check byte, if the ATR carries one (present when a protocol other than T=0 is offered).
    pub fn tck(&self) -> Option<u8> {
        self.has_tck.then(|| self.bytes[usize::from(self.len) - 1])
    }
}

impl fmt::Display for Atr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Atr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atr({self}; {:?})", self.protocols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn real_atrs_parse() {
        // A T=0 PBOC card style ATR: TA1, TC1, no TD → T=0, no TCK.
        let atr = Atr::parse(&[
            0x3B, 0x6D, 0x00, 0x00, 0x57, 0x44, 0x29, 0x37, 0x29, 0x06, 0x02, 0x21, 0x43, 0x45,
            0x85, 0x00, 0x09,
        ]);
        // T0=6D: TB1 and TC1 present, 13 historical bytes.
        let atr = atr.expect("parses");
        assert!(atr.protocols().t0());
        assert_eq!(atr.tc1(), Some(0x00));
        assert_eq!(atr.historical_bytes().len(), 13);
        assert_eq!(atr.tck(), None);
        // vicc's ATR: 3B 95 13 81 01 80 73 FF 01 00 0B → T=1 with TCK.
        let vicc = Atr::parse(&[
            0x3B, 0x95, 0x13, 0x81, 0x01, 0x80, 0x73, 0xFF, 0x01, 0x00, 0x0B,
        ])
        .expect("vicc");
        assert_eq!(vicc.ta1(), Some(0x13));
        assert!(vicc.protocols().t1());
        assert_eq!(vicc.historical_bytes(), &[0x80, 0x73, 0xFF, 0x01, 0x00]);
        assert_eq!(vicc.tck(), Some(0x0B));
        assert_eq!(vicc.interface_bytes(), &[0x13, 0x81, 0x01]);
    }

    #[test]
    fn malformed_atrs_give_typed_errors() {
        assert_eq!(Atr::parse(&[]), Err(AtrError::Empty));
        assert_eq!(Atr::parse(&[0x12, 0x00]), Err(AtrError::InvalidTs(0x12)));
        assert_eq!(
            Atr::parse(&[0x3B]),
            Err(AtrError::Truncated { needed: 2, len: 1 })
        );
        assert_eq!(
            Atr::parse(&[0x3B, 0x82, 0x01]),
            Err(AtrError::Truncated { needed: 6, len: 3 })
        );
        assert_eq!(
            Atr::parse(&[0x3B, 0x00, 0xFF]),
            Err(AtrError::TooLong { len: 3 })
        );
        assert_eq!(
            Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x00]),
            Err(AtrError::TckMismatch {
                received: 0x00,
                expected: 0x01
            })
        );
        assert_eq!(
            Atr::parse(&[0x3F, 0x00]).map(|a| a.convention()),
            Ok(Convention::Inverse)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_keeps_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(atr) = Atr::parse(&bytes) {
                prop_assert_eq!(atr.as_bytes(), &bytes[..]);
                prop_assert!(atr.as_bytes().len() <= MAX_ATR_LEN);
                let reparsed = Atr::parse(atr.as_bytes());
                prop_assert_eq!(reparsed, Ok(atr));
            }
        }

        #[test]
        fn well_formed_atrs_round_trip(hist in proptest::collection::vec(any::<u8>(), 0..15), t1 in any::<bool>(), ta1 in any::<u8>()) {
            // Build TS T0 TA1 [TD1=0x81 TD2... ] hist [TCK]
            let mut atr: Vec<u8> = Vec::new();
            atr.push(0x3B);
            let y1 = if t1 { 0x90 } else { 0x10 };
            atr.push(y1 | hist.len() as u8);
            atr.push(ta1);
            if t1 { atr.push(0x01); }
            atr.extend_from_slice(&hist);
            if t1 {
                let tck = atr[1..].iter().fold(0, |a, b| a ^ b);
                atr.push(tck);
            }
            let parsed = Atr::parse(&atr).expect("well formed");
            prop_assert_eq!(parsed.historical_bytes(), &hist[..]);
            prop_assert_eq!(parsed.protocols().t1(), t1);
            prop_assert_eq!(parsed.ta1(), Some(ta1));
        }
    }
}
