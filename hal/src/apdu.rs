//! ISO 7816-4 command and response APDUs, short and extended, cases 1–4.

use core::fmt;

/// Largest command data field (Nc) of an extended APDU.
pub const MAX_NC: usize = 65_535;
/// Largest expected response length (Ne) of an extended APDU.
pub const MAX_NE: u32 = 65_536;
/// Largest Nc of a short APDU.
pub const MAX_SHORT_NC: usize = 255;
/// Largest Ne of a short APDU.
pub const MAX_SHORT_NE: u32 = 256;
/// Longest encoded command APDU (case 4 extended with 65,535 data bytes).
pub const MAX_ENCODED_LEN: usize = 4 + 3 + MAX_NC + 2;

/// Why a command or response APDU could not be encoded or parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApduError {
    /// Fewer than the 4 header bytes.
    TooShort {
        /// Bytes given.
        len: usize,
    },
    /// The Lc field says `lc` bytes follow, but the total length does not match any case.
    LengthMismatch {
        /// Lc as read.
        lc: usize,
        /// Total bytes given.
        len: usize,
    },
    /// An extended Lc of zero, which ISO 7816-4 forbids.
    ZeroLc,
    /// More data than an APDU can carry.
    DataTooLong {
        /// Bytes of data.
        len: usize,
    },
    /// Ne outside 1..=65536.
    InvalidLe {
        /// The requested Ne.
        ne: u32,
    },
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// A response APDU shorter than its two status bytes.
    ResponseTooShort {
        /// Bytes received.
        len: usize,
    },
}

impl fmt::Display for ApduError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApduError::TooShort { len } => write!(f, "APDU of {len} bytes has no complete header"),
            ApduError::LengthMismatch { lc, len } => {
                write!(f, "APDU length {len} does not match Lc {lc}")
            }
            ApduError::ZeroLc => f.write_str("extended APDU with Lc = 0"),
            ApduError::DataTooLong { len } => write!(f, "APDU data of {len} bytes exceeds 65535"),
            ApduError::InvalidLe { ne } => write!(f, "Le {ne} outside 1..=65536"),
            ApduError::BufferTooSmall { needed } => write!(f, "buffer too small, need {needed}"),
            ApduError::ResponseTooShort { len } => {
                write!(f, "response of {len} bytes has no status word")
            }
        }
    }
}

impl core::error::Error for ApduError {}

/// A command APDU that borrows its data.
///
/// ```
/// use pos_hal::Apdu;
/// // SELECT 1PAY.SYS.DDF01 (case 4 short).
/// let select = Apdu::new(0x00, 0xA4, 0x04, 0x00).with_data(b"1PAY.SYS.DDF01").with_le(256);
/// let mut buf = [0u8; 32];
/// let n = select.encode_into(&mut buf)?;
/// assert_eq!(&buf[..5], &[0x00, 0xA4, 0x04, 0x00, 14]);
/// assert_eq!(buf[n - 1], 0x00); // Le 256 is encoded as 00
/// assert_eq!(Apdu::parse(&buf[..n])?, select);
/// # Ok::<(), pos_hal::ApduError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Apdu<'a> {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (Nc = `data.len()`).
    pub data: &'a [u8],
    /// Expected response length Ne (1..=65536), `None` when no response data is expected.
    pub le: Option<u32>,
}

impl<'a> Apdu<'a> {
    /// A case 1 APDU (header only).
    pub const fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: &[],
            le: None,
        }
    }

    /// Sets the command data.
    pub const fn with_data(self, data: &'a [u8]) -> Self {
        Self { data, ..self }
    }

    /// Sets Ne, the number of response bytes expected (256 = "up to 256" in a short APDU).
    pub const fn with_le(self, ne: u32) -> Self {
        Self {
            le: Some(ne),
            ..self
        }
    }

    /// True when this APDU needs extended length fields.
    pub fn is_extended(&self) -> bool {
        self.data.len() > MAX_SHORT_NC || self.le.is_some_and(|ne| ne > MAX_SHORT_NE)
    }

    /// Checks the length limits.
    pub fn validate(&self) -> Result<(), ApduError> {
        if self.data.len() > MAX_NC {
            return Err(ApduError::DataTooLong {
                len: self.data.len(),
            });
        }
        if let Some(ne) = self.le
            && (ne == 0 || ne > MAX_NE)
        {
            return Err(ApduError::InvalidLe { ne });
        }
        Ok(())
    }

    /// The number of bytes [`encode_into`](Self::encode_into) writes.
    pub fn encoded_len(&self) -> usize {
        let nc = self.data.len();
        let ext = self.is_extended();
        let lc_len = match (nc, ext) {
            (0, _) => 0,
            (_, false) => 1,
            (_, true) => 3,
        };
        let le_len = match (self.le.is_some(), ext, nc) {
            (false, _, _) => 0,
            (true, false, _) => 1,
            (true, true, 0) => 3,
            (true, true, _) => 2,
        };
        4 + lc_len + nc + le_len
    }

    /// Encodes into `out`, returning the number of bytes written.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, ApduError> {
        self.validate()?;
        let needed = self.encoded_len();
        if out.len() < needed {
            return Err(ApduError::BufferTooSmall { needed });
        }
        let ext = self.is_extended();
        let nc = self.data.len();
        out[..4].copy_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let mut at = 4;
        if nc > 0 {
            if ext {
                out[at] = 0;
                out[at + 1..at + 3].copy_from_slice(&(nc as u16).to_be_bytes());
                at += 3;
            } else {
                out[at] = nc as u8;
                at += 1;
            }
            out[at..at + nc].copy_from_slice(self.data);
            at += nc;
        }
        if let Some(ne) = self.le {
            // Ne = max is encoded as zeros (256 short, 65536 extended).
            if ext {
                if nc == 0 {
                    out[at] = 0;
                    at += 1;
                }
                let field = if ne == MAX_NE { 0 } else { ne as u16 };
                out[at..at + 2].copy_from_slice(&field.to_be_bytes());
                at += 2;
            } else {
                out[at] = if ne == MAX_SHORT_NE { 0 } else { ne as u8 };
                at += 1;
            }
        }
        debug_assert_eq!(at, needed);
        Ok(at)
    }

    /// Parses an encoded command APDU of any case, short or extended.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ApduError> {
        let len = bytes.len();
        if len < 4 {
            return Err(ApduError::TooShort { len });
        }
        let head = Self::new(bytes[0], bytes[1], bytes[2], bytes[3]);
        if len == 4 {
            return Ok(head);
        }
        let b4 = bytes[4];
        if len == 5 {
            let ne = if b4 == 0 { MAX_SHORT_NE } else { u32::from(b4) };
            return Ok(head.with_le(ne));
        }
        if b4 != 0 {
            let lc = usize::from(b4);
            let data_end = 5 + lc;
            return match len.checked_sub(data_end) {
                Some(0) => Ok(head.with_data(&bytes[5..data_end])),
                Some(1) => {
                    let le = bytes[data_end];
                    let ne = if le == 0 { MAX_SHORT_NE } else { u32::from(le) };
                    Ok(head.with_data(&bytes[5..data_end]).with_le(ne))
                }
                _ => Err(ApduError::LengthMismatch { lc, len }),
            };
        }
        // Extended: b4 == 0 followed by two bytes.
        if len < 7 {
            return Err(ApduError::LengthMismatch { lc: 0, len });
        }
        let field = usize::from(u16::from_be_bytes([bytes[5], bytes[6]]));
        if len == 7 {
            let ne = if field == 0 { MAX_NE } else { field as u32 };
            return Ok(head.with_le(ne));
        }
        if field == 0 {
            return Err(ApduError::ZeroLc);
        }
        let data_end = 7 + field;
        match len.checked_sub(data_end) {
            Some(0) => Ok(head.with_data(&bytes[7..data_end])),
            Some(2) => {
                let le = u16::from_be_bytes([bytes[data_end], bytes[data_end + 1]]);
                let ne = if le == 0 { MAX_NE } else { u32::from(le) };
                Ok(head.with_data(&bytes[7..data_end]).with_le(ne))
            }
            _ => Err(ApduError::LengthMismatch { lc: field, len }),
        }
    }
}

/// The two status bytes SW1 SW2 at the end of every response.
///
/// ```
/// use pos_hal::StatusWord;
/// assert!(StatusWord::OK.is_success());
/// assert_eq!(StatusWord::from_bytes(0x61, 0x10).bytes_available(), Some(16));
/// assert_eq!(StatusWord::from_bytes(0x6C, 0x00).exact_length(), Some(256));
/// assert_eq!(StatusWord::from_bytes(0x6A, 0x82).to_string(), "6A82 (file or application not found)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// `90 00`, normal processing.
    pub const OK: Self = Self(0x9000);
    /// `6A 82`, file or application not found.
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    /// `6A 83`, record not found.
    pub const RECORD_NOT_FOUND: Self = Self(0x6A83);
    /// `6D 00`, instruction not supported.
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    /// `6E 00`, class not supported.
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    /// `67 00`, wrong length.
    pub const WRONG_LENGTH: Self = Self(0x6700);
    /// `69 85`, conditions of use not satisfied.
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    /// `6A 86`, incorrect P1 P2.
    pub const WRONG_P1P2: Self = Self(0x6A86);

    /// From SW1 and SW2.
    pub const fn from_bytes(sw1: u8, sw2: u8) -> Self {
        Self(u16::from_be_bytes([sw1, sw2]))
    }
    /// SW1.
    pub const fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }
    /// SW2.
    pub const fn sw2(self) -> u8 {
        self.0 as u8
    }
    /// `90 00`.
    pub const fn is_success(self) -> bool {
        self.0 == 0x9000
    }
    /// `62 xx` / `63 xx`: completed with a warning.
    pub const fn is_warning(self) -> bool {
        matches!(self.sw1(), 0x62 | 0x63)
    }
    /// `61 xx`: that many response bytes wait for GET RESPONSE (`xx = 00` means 256).
    pub const fn bytes_available(self) -> Option<usize> {
        if self.sw1() == 0x61 {
            Some(if self.sw2() == 0 {
                256
            } else {
                self.sw2() as usize
            })
        } else {
            None
        }
    }
    /// `6C xx`: wrong Le, re-send with exactly this Ne (`xx = 00` means 256).
    pub const fn exact_length(self) -> Option<usize> {
        if self.sw1() == 0x6C {
            Some(if self.sw2() == 0 {
                256
            } else {
                self.sw2() as usize
            })
        } else {
            None
        }
    }
    /// A description of well-known status words.
    pub fn description(self) -> &'static str {
        match (self.sw1(), self.sw2()) {
            (0x90, 0x00) => "success",
            (0x61, _) => "more data available",
            (0x62, 0x83) => "selected file invalidated",
            (0x62, _) | (0x63, _) => "warning",
            (0x64, _) | (0x65, _) => "execution error",
            (0x67, 0x00) => "wrong length",
            (0x68, _) => "function in CLA not supported",
            (0x69, 0x82) => "security status not satisfied",
            (0x69, 0x83) => "authentication method blocked",
            (0x69, 0x84) => "referenced data invalidated",
            (0x69, 0x85) => "conditions of use not satisfied",
            (0x69, _) => "command not allowed",
            (0x6A, 0x81) => "function not supported",
            (0x6A, 0x82) => "file or application not found",
            (0x6A, 0x83) => "record not found",
            (0x6A, 0x86) => "incorrect P1 P2",
            (0x6A, 0x88) => "referenced data not found",
            (0x6A, _) => "wrong parameters",
            (0x6B, 0x00) => "wrong parameters P1 P2",
            (0x6C, _) => "wrong Le",
            (0x6D, 0x00) => "instruction not supported",
            (0x6E, 0x00) => "class not supported",
            (0x6F, _) => "no precise diagnosis",
            _ => "unknown status",
        }
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X} ({})", self.0, self.description())
    }
}

/// A response APDU: data followed by SW1 SW2.
///
/// ```
/// use pos_hal::{Rapdu, StatusWord};
/// let r = Rapdu::parse(&[0x6F, 0x00, 0x90, 0x00])?;
/// assert_eq!(r.data, &[0x6F, 0x00]);
/// assert_eq!(r.sw, StatusWord::OK);
/// assert!(Rapdu::parse(&[0x90]).is_err());
/// # Ok::<(), pos_hal::ApduError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rapdu<'a> {
    /// Response data without the status word.
    pub data: &'a [u8],
    /// The status word.
    pub sw: StatusWord,
}

impl<'a> Rapdu<'a> {
    /// Splits raw response bytes; fewer than 2 bytes is an error (a card pulled mid-command
    /// can produce an empty "successful" transmit in PC/SC).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ApduError> {
        match bytes.len() {
            len @ 0..=1 => Err(ApduError::ResponseTooShort { len }),
            len => Ok(Self {
                data: &bytes[..len - 2],
                sw: StatusWord::from_bytes(bytes[len - 2], bytes[len - 1]),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    fn encode(apdu: &Apdu<'_>) -> Vec<u8> {
        let mut buf = vec![0; apdu.encoded_len()];
        let n = apdu.encode_into(&mut buf).expect("encodes");
        buf.truncate(n);
        buf
    }

    #[test]
    fn all_cases_encode_as_iso7816_says() {
        let h = Apdu::new(0x00, 0xB2, 0x01, 0x0C);
        assert_eq!(encode(&h), [0x00, 0xB2, 0x01, 0x0C]);
        assert_eq!(encode(&h.with_le(256)), [0x00, 0xB2, 0x01, 0x0C, 0x00]);
        assert_eq!(
            encode(&h.with_data(&[1, 2])),
            [0x00, 0xB2, 0x01, 0x0C, 2, 1, 2]
        );
        assert_eq!(
            encode(&h.with_data(&[1]).with_le(5)),
            [0x00, 0xB2, 0x01, 0x0C, 1, 1, 5]
        );
        assert_eq!(
            encode(&h.with_le(65_536)),
            [0x00, 0xB2, 0x01, 0x0C, 0, 0, 0]
        );
        assert_eq!(
            encode(&h.with_le(300)),
            [0x00, 0xB2, 0x01, 0x0C, 0, 0x01, 0x2C]
        );
        let data = [0xAB; 300];
        let ext3 = encode(&h.with_data(&data));
        assert_eq!(&ext3[4..7], &[0, 0x01, 0x2C]);
        assert_eq!(ext3.len(), 7 + 300);
        let ext4 = encode(&h.with_data(&data).with_le(65_536));
        assert_eq!(&ext4[ext4.len() - 2..], &[0, 0]);
        // Short data with an extended Le forces extended Lc as well.
        let mixed = encode(&h.with_data(&[9]).with_le(1000));
        assert_eq!(mixed, [0x00, 0xB2, 0x01, 0x0C, 0, 0, 1, 9, 0x03, 0xE8]);
    }

    #[test]
    fn malformed_commands_give_typed_errors() {
        assert_eq!(
            Apdu::parse(&[0x00, 0xA4]),
            Err(ApduError::TooShort { len: 2 })
        );
        assert_eq!(
            Apdu::parse(&[0, 0xA4, 4, 0, 7, 1, 2]),
            Err(ApduError::LengthMismatch { lc: 7, len: 7 })
        );
        assert_eq!(
            Apdu::parse(&[0, 0xA4, 4, 0, 0, 0]),
            Err(ApduError::LengthMismatch { lc: 0, len: 6 })
        );
        assert_eq!(
            Apdu::parse(&[0, 0xA4, 4, 0, 0, 0, 0, 1]),
            Err(ApduError::ZeroLc)
        );
        assert_eq!(
            Apdu::new(0, 0, 0, 0).with_le(0).validate(),
            Err(ApduError::InvalidLe { ne: 0 })
        );
        assert_eq!(
            Apdu::new(0, 0, 0, 0).with_le(65_537).validate(),
            Err(ApduError::InvalidLe { ne: 65_537 })
        );
        let big = vec![0u8; 65_536];
        assert_eq!(
            Apdu::new(0, 0, 0, 0).with_data(&big).validate(),
            Err(ApduError::DataTooLong { len: 65_536 })
        );
        let mut small = [0u8; 4];
        assert_eq!(
            Apdu::new(0, 0, 0, 0).with_le(1).encode_into(&mut small),
            Err(ApduError::BufferTooSmall { needed: 5 })
        );
    }

    #[test]
    fn status_word_helpers() {
        let sw = StatusWord::from_bytes(0x61, 0x00);
        assert_eq!(sw.bytes_available(), Some(256));
        assert_eq!(sw.exact_length(), None);
        assert!(StatusWord::from_bytes(0x63, 0xC2).is_warning());
        assert_eq!(StatusWord(0x1234).description(), "unknown status");
        assert_eq!(
            Rapdu::parse(&[]),
            Err(ApduError::ResponseTooShort { len: 0 })
        );
    }

    fn arb_apdu() -> impl Strategy<Value = (u8, u8, u8, u8, Vec<u8>, Option<u32>)> {
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..=255),
                proptest::collection::vec(any::<u8>(), 256..=1024)
            ],
            prop_oneof![Just(None), (1u32..=65_536).prop_map(Some)],
        )
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips((cla, ins, p1, p2, data, le) in arb_apdu()) {
            let apdu = Apdu { cla, ins, p1, p2, data: &data, le };
            let bytes = encode(&apdu);
            prop_assert_eq!(bytes.len(), apdu.encoded_len());
            prop_assert_eq!(Apdu::parse(&bytes), Ok(apdu));
        }

        #[test]
        fn parse_never_panics_and_reencodes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(apdu) = Apdu::parse(&bytes) {
                // Whatever parses must be valid and survive a round trip.
                prop_assert!(apdu.validate().is_ok());
                let again = encode(&apdu);
                prop_assert_eq!(Apdu::parse(&again), Ok(apdu));
            }
            let _ = Rapdu::parse(&bytes);
        }
    }
}
