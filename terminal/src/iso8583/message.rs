//! Messages: MTI, bitmap and fields; pack and unpack.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use pos_hal::{Amount, Pan};

use super::error::{CodecError, CodecErrorKind as K};
use super::spec::{Dialect, Encoding, FieldSpec, Length, Pad, field_in};

/// Message type indicator, four ASCII digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mti([u8; 4]);

impl Mti {
    /// 0100 authorisation request (pre-auth).
    pub const AUTH_REQUEST: Self = Self(*b"0100");
    /// 0200 financial request (sale, void, balance, completion).
    pub const FINANCIAL_REQUEST: Self = Self(*b"0200");
    /// 0220 financial advice (refund, offline completion).
    pub const FINANCIAL_ADVICE: Self = Self(*b"0220");
    /// 0320 batch upload.
    pub const BATCH_UPLOAD: Self = Self(*b"0320");
    /// 0400 reversal.
    pub const REVERSAL: Self = Self(*b"0400");
    /// 0500 settlement.
    pub const SETTLEMENT: Self = Self(*b"0500");
    /// 0620 issuer script result advice.
    pub const SCRIPT_ADVICE: Self = Self(*b"0620");
    /// 0800 network management request (sign-in).
    pub const NETWORK_REQUEST: Self = Self(*b"0800");
    /// 0820 network management advice (sign-off, echo).
    pub const NETWORK_ADVICE: Self = Self(*b"0820");

    /// From four ASCII digits.
    pub fn new(digits: [u8; 4]) -> Result<Self, CodecError> {
        if digits.iter().all(u8::is_ascii_digit) {
            Ok(Self(digits))
        } else {
            Err(CodecError::at(None, 0, K::InvalidMti))
        }
    }

    /// From text like `"0200"`.
    pub fn parse(text: &str) -> Result<Self, CodecError> {
        let b: [u8; 4] = text
            .as_bytes()
            .try_into()
            .map_err(|_| CodecError::at(None, 0, K::InvalidMti))?;
        Self::new(b)
    }

    /// The matching response MTI (0200 → 0210).
    pub fn response(self) -> Self {
        let mut d = self.0;
        d[2] = if d[2] == b'9' { b'9' } else { d[2] + 1 };
        Self(d)
    }

    /// True for response MTIs (third digit odd).
    pub fn is_response(self) -> bool {
        (self.0[2] - b'0') % 2 == 1
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("????")
    }
}

impl fmt::Debug for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mti({})", self.as_str())
    }
}

impl fmt::Display for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field's value.
#[derive(Clone, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// Logical content: digits (numeric), digits and `=` (track), characters (ASCII).
    Text(Cow<'a, [u8]>),
    /// Numeric or track content as received: packed BCD and its digit count.
    Packed {
        /// The packed bytes.
        bcd: &'a [u8],
        /// Number of digits.
        digits: u16,
    },
    /// Raw bytes of a binary field.
    Bytes(Cow<'a, [u8]>),
}

/// Shows the shape only: a field may hold a PAN (2), tracks (35, 36), a PIN block (52), keys
/// (62) or a MAC (64).
impl fmt::Debug for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Text(t) => write!(f, "Text(<{} bytes>)", t.len()),
            FieldValue::Packed { digits, .. } => write!(f, "Packed(<{digits} digits>)"),
            FieldValue::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
        }
    }
}

/// Text (`ans`) fields hold printable characters: ASCII, or GBK bytes (0x80 and up) in the
/// Chinese fields; control characters are refused both ways.
fn is_control(c: u8) -> bool {
    c < 0x20 || c == 0x7F
}

// Track fields carry digits and `=` in clear, and any hex nibble once encrypted with the TDK.
fn nibble_char(nibble: u8, encoding: Encoding) -> Option<u8> {
    match (nibble, encoding) {
        (0..=9, _) => Some(b'0' + nibble),
        (0x0D, Encoding::Track) => Some(b'='),
        (0x0A..=0x0F, Encoding::Track) => Some(b'A' + nibble - 10),
        _ => None,
    }
}

fn char_nibble(c: u8, encoding: Encoding) -> Option<u8> {
    match (c, encoding) {
        (b'0'..=b'9', _) => Some(c - b'0'),
        (b'=' | b'D', Encoding::Track) => Some(0x0D),
        (b'A'..=b'F', Encoding::Track) => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Iterates the digit nibbles of packed BCD, skipping the pad nibble.
fn nibbles(bcd: &[u8], digits: usize, pad: Pad) -> impl Iterator<Item = u8> + '_ {
    let skip = if digits % 2 == 1 && pad == Pad::Left {
        1
    } else {
        0
    };
    bcd.iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .skip(skip)
        .take(digits)
}

impl FieldValue<'_> {
    /// The logical content (digits, track characters, text, or raw bytes for binary fields).
    pub fn text(&self, spec: &FieldSpec) -> Result<Cow<'_, [u8]>, CodecError> {
        match self {
            FieldValue::Text(t) | FieldValue::Bytes(t) => Ok(Cow::Borrowed(t)),
            FieldValue::Packed { bcd, digits } => {
                let mut out = Vec::with_capacity(usize::from(*digits));
                for n in nibbles(bcd, usize::from(*digits), spec.pad) {
                    let c = nibble_char(n, spec.encoding).ok_or(CodecError::at(
                        Some(spec.number),
                        0,
                        K::NotNumeric,
                    ))?;
                    out.push(c);
                }
                Ok(Cow::Owned(out))
            }
        }
    }
}

/// An ISO 8583 message of the CUP POS dialect.
#[derive(Clone, PartialEq, Eq)]
pub struct Message<'a> {
    mti: Mti,
    fields: [Option<FieldValue<'a>>; 65],
    dialect: Dialect,
}

impl fmt::Debug for Message<'_> {
    /// Lists MTI and field numbers only: values may hold card-holder data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<u8> = self.numbers().collect();
        f.debug_struct("Message")
            .field("mti", &self.mti)
            .field("fields", &present)
            .finish()
    }
}

const NONE: Option<FieldValue<'static>> = None;

fn spec(n: u8, dialect: Dialect, offset: usize) -> Result<&'static FieldSpec, CodecError> {
    field_in(n, dialect).ok_or(CodecError::at(Some(n), offset, K::UndefinedField))
}

fn bcd_prefix(value: usize, bytes: usize, out: &mut Vec<u8>) {
    let digits = [
        (value / 1000) % 10,
        (value / 100) % 10,
        (value / 10) % 10,
        value % 10,
    ];
    let d = &digits[4 - bytes * 2..];
    for pair in d.chunks(2) {
        out.push(((pair[0] as u8) << 4) | pair[1] as u8);
    }
}

fn read_bcd_number(bytes: &[u8]) -> Option<usize> {
    let mut v = 0usize;
    for b in bytes {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return None;
        }
        v = v * 100 + usize::from(hi) * 10 + usize::from(lo);
    }
    Some(v)
}

fn units_to_bytes(spec: &FieldSpec, units: usize) -> usize {
    match spec.encoding {
        Encoding::Bcd | Encoding::Track => units.div_ceil(2),
        Encoding::Ascii | Encoding::Binary => units,
    }
}

impl<'a> Message<'a> {
    /// An empty message.
    pub fn new(mti: Mti) -> Self {
        Self {
            mti,
            fields: [NONE; 65],
            dialect: Dialect::Cup,
        }
    }

    /// The dialect the message is packed in ([`Dialect::Cup`] unless set).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Packs the message in `dialect` from now on. Fields already set must fit it: a PIN
    /// block set for one dialect is removed when the other is chosen.
    pub fn set_dialect(&mut self, dialect: Dialect) -> &mut Self {
        if dialect != self.dialect {
            self.fields[52] = None;
        }
        self.dialect = dialect;
        self
    }

    /// The MTI.
    pub fn mti(&self) -> Mti {
        self.mti
    }

    /// Changes the MTI (e.g. a stored request becomes a 0400 reversal).
    pub fn set_mti(&mut self, mti: Mti) {
        self.mti = mti;
    }

    /// Numbers of the fields present, ascending.
    pub fn numbers(&self) -> impl Iterator<Item = u8> + '_ {
        (2u8..=64).filter(|n| self.fields[usize::from(*n)].is_some())
    }

    /// True if field `n` is present.
    pub fn has(&self, n: u8) -> bool {
        self.fields.get(usize::from(n)).is_some_and(Option::is_some)
    }

    /// The raw value of field `n`.
    pub fn get(&self, n: u8) -> Option<&FieldValue<'a>> {
        self.fields.get(usize::from(n)).and_then(Option::as_ref)
    }

    /// Removes field `n`.
    pub fn remove(&mut self, n: u8) -> Option<FieldValue<'a>> {
        self.fields.get_mut(usize::from(n)).and_then(Option::take)
    }

    /// Sets a numeric, track or text field from its logical content, checking the field's
    /// character set and length.
    pub fn set_text(
        &mut self,
        n: u8,
        value: impl Into<Cow<'a, str>>,
    ) -> Result<&mut Self, CodecError> {
        let spec = spec(n, self.dialect, 0)?;
        let bytes: Cow<'a, [u8]> = match value.into() {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        };
        check_value(spec, &bytes)?;
        self.fields[usize::from(n)] = Some(match spec.encoding {
            Encoding::Binary => FieldValue::Bytes(bytes),
            _ => FieldValue::Text(bytes),
        });
        Ok(self)
    }

    /// Sets a binary field (52, 55, 62, 64).
    pub fn set_bytes(
        &mut self,
        n: u8,
        value: impl Into<Cow<'a, [u8]>>,
    ) -> Result<&mut Self, CodecError> {
        let spec = spec(n, self.dialect, 0)?;
        let bytes = value.into();
        check_value(spec, &bytes)?;
        self.fields[usize::from(n)] = Some(FieldValue::Bytes(bytes));
        Ok(self)
    }

    /// The logical content of field `n` (see [`FieldValue::text`]).
    pub fn text(&self, n: u8) -> Result<Option<Cow<'_, [u8]>>, CodecError> {
        match (self.get(n), field_in(n, self.dialect)) {
            (Some(v), Some(spec)) => v.text(spec).map(Some),
            _ => Ok(None),
        }
    }

    /// Field `n` as a string (text fields that are not UTF-8 give `InvalidChar`).
    pub fn string(&self, n: u8) -> Result<Option<String>, CodecError> {
        match self.text(n)? {
            Some(t) => String::from_utf8(t.into_owned())
                .map(Some)
                .map_err(|_| CodecError::at(Some(n), 0, K::InvalidChar)),
            None => Ok(None),
        }
    }

    /// Field `n` or a `Missing` error.
    pub fn require(&self, n: u8) -> Result<String, CodecError> {
        self.string(n)?
            .ok_or(CodecError::at(Some(n), 0, K::Missing))
    }

    /// Owns all data (to keep a message beyond its input buffer, e.g. a stored reversal).
    pub fn into_owned(self) -> Message<'static> {
        let mut out = Message::new(self.mti);
        out.dialect = self.dialect;
        for n in 2..=64u8 {
            let i = usize::from(n);
            let Some(v) = &self.fields[i] else { continue };
            out.fields[i] = Some(match (v, field_in(n, self.dialect)) {
                (FieldValue::Text(t), _) => FieldValue::Text(Cow::Owned(t.to_vec())),
                (FieldValue::Bytes(b), _) => FieldValue::Bytes(Cow::Owned(b.to_vec())),
                (FieldValue::Packed { .. }, Some(spec)) => match v.text(spec) {
                    Ok(t) => FieldValue::Text(Cow::Owned(t.into_owned())),
                    Err(_) => continue,
                },
                (FieldValue::Packed { .. }, None) => continue,
            });
        }
        out
    }

    /// The primary bitmap.
    pub fn bitmap(&self) -> [u8; 8] {
        let mut map = [0u8; 8];
        for n in self.numbers() {
            let bit = usize::from(n - 1);
            map[bit / 8] |= 0x80 >> (bit % 8);
        }
        map
    }

    /// Packs MTI, bitmap and fields.
    pub fn pack(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(256);
        self.pack_into(&mut out)?;
        Ok(out)
    }

    /// Packs into `out` (appending).
    pub fn pack_into(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let base = out.len();
        let m = &self.mti.0;
        out.push(((m[0] - b'0') << 4) | (m[1] - b'0'));
        out.push(((m[2] - b'0') << 4) | (m[3] - b'0'));
        out.extend_from_slice(&self.bitmap());
        for n in 2..=64u8 {
            let Some(value) = &self.fields[usize::from(n)] else {
                continue;
            };
            let spec = spec(n, self.dialect, out.len() - base)?;
            pack_field(spec, value, out)
                .map_err(|kind| CodecError::at(Some(n), out.len() - base, kind))?;
        }
        Ok(())
    }

    /// Unpacks a message (MTI onwards) of the [`Dialect::Cup`] dialect, borrowing from
    /// `bytes`.
    pub fn unpack(bytes: &'a [u8]) -> Result<Self, CodecError> {
        Self::unpack_in(bytes, Dialect::Cup)
    }

    /// Unpacks a message of `dialect`.
    pub fn unpack_in(bytes: &'a [u8], dialect: Dialect) -> Result<Self, CodecError> {
        if bytes.len() < 10 {
            return Err(CodecError::at(
                None,
                bytes.len(),
                K::Truncated {
                    needed: 10 - bytes.len(),
                },
            ));
        }
        let mti_digits = [
            bytes[0] >> 4,
            bytes[0] & 0x0F,
            bytes[1] >> 4,
            bytes[1] & 0x0F,
        ];
        if mti_digits.iter().any(|d| *d > 9) {
            return Err(CodecError::at(None, 0, K::InvalidMti));
        }
        let mti = Mti(mti_digits.map(|d| b'0' + d));
        let bitmap = &bytes[2..10];
        if bitmap[0] & 0x80 != 0 {
            return Err(CodecError::at(Some(1), 2, K::UndefinedField));
        }
        let mut msg = Message::new(mti);
        msg.dialect = dialect;
        let mut at = 10;
        for n in 2..=64u8 {
            let bit = usize::from(n - 1);
            if bitmap[bit / 8] & (0x80 >> (bit % 8)) == 0 {
                continue;
            }
            let spec = spec(n, dialect, 2)?;
            let (value, used) = unpack_field(spec, &bytes[at..])
                .map_err(|kind| CodecError::at(Some(n), at, kind))?;
            msg.fields[usize::from(n)] = Some(value);
            at += used;
        }
        if at != bytes.len() {
            return Err(CodecError::at(
                None,
                at,
                K::TrailingBytes {
                    count: bytes.len() - at,
                },
            ));
        }
        Ok(msg)
    }

    // ---- typed accessors -------------------------------------------------------------

    /// Field 2, the PAN.
    pub fn pan(&self) -> Result<Option<Pan>, CodecError> {
        match self.text(2)? {
            Some(t) => Pan::parse_bytes(&t)
                .map(Some)
                .map_err(|_| CodecError::at(Some(2), 0, K::InvalidChar)),
            None => Ok(None),
        }
    }

    /// Field 3, the processing code.
    pub fn processing_code(&self) -> Result<Option<String>, CodecError> {
        self.string(3)
    }

    /// Field 4, the amount.
    pub fn amount(&self) -> Result<Option<Amount>, CodecError> {
        match self.text(4)? {
            Some(t) => {
                let mut a = Amount::ZERO;
                for d in t.iter() {
                    a = a
                        .push_digit(d - b'0')
                        .map_err(|_| CodecError::at(Some(4), 0, K::NotNumeric))?;
                }
                Ok(Some(a))
            }
            None => Ok(None),
        }
    }

    /// Sets field 4.
    pub fn set_amount(&mut self, amount: Amount) -> Result<&mut Self, CodecError> {
        let digits = amount.to_n12();
        let text = core::str::from_utf8(&digits)
            .map(String::from)
            .unwrap_or_default();
        self.set_text(4, text)
    }

    /// Field 11, the system trace audit number.
    pub fn stan(&self) -> Result<Option<u32>, CodecError> {
        Ok(self
            .text(11)?
            .map(|t| t.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'))))
    }

    /// Sets field 11 (0..=999999).
    pub fn set_stan(&mut self, stan: u32) -> Result<&mut Self, CodecError> {
        let mut digits = [b'0'; 6];
        let mut v = stan % 1_000_000;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.set_text(11, String::from_utf8_lossy(&digits).into_owned())
    }

    /// Field 39, the response code.
    pub fn response_code(&self) -> Result<Option<String>, CodecError> {
        self.string(39)
    }

    /// Field 41, the terminal id.
    pub fn terminal_id(&self) -> Result<Option<String>, CodecError> {
        self.string(41)
    }

    /// Field 42, the merchant id.
    pub fn merchant_id(&self) -> Result<Option<String>, CodecError> {
        self.string(42)
    }

    /// The batch number, 60.2 (digits 3..8 of field 60).
    pub fn batch_number(&self) -> Result<Option<u32>, CodecError> {
        Ok(self.text(60)?.and_then(|t| {
            let b = t.get(2..8)?;
            Some(b.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0')))
        }))
    }

    /// 60.1, the transaction type code.
    pub fn transaction_type(&self) -> Result<Option<String>, CodecError> {
        Ok(self.string(60)?.and_then(|s| s.get(..2).map(String::from)))
    }

    /// 60.3, the network management code.
    pub fn network_code(&self) -> Result<Option<String>, CodecError> {
        Ok(self
            .string(60)?
            .and_then(|s| s.get(8..11).map(String::from)))
    }
}

fn check_value(spec: &FieldSpec, value: &[u8]) -> Result<(), CodecError> {
    let err = |kind| CodecError::at(Some(spec.number), 0, kind);
    match spec.encoding {
        Encoding::Bcd | Encoding::Track => {
            if value
                .iter()
                .any(|c| char_nibble(*c, spec.encoding).is_none())
            {
                return Err(err(K::NotNumeric));
            }
        }
        Encoding::Ascii => {
            if value.iter().any(|c| is_control(*c)) {
                return Err(err(K::InvalidChar));
            }
        }
        Encoding::Binary => {}
    }
    match spec.length {
        Length::Fixed(n) if value.len() != usize::from(n) => Err(err(K::WrongLength {
            len: value.len(),
            expected: usize::from(n),
        })),
        Length::Ll(max) | Length::Lll(max) if value.len() > usize::from(max) => {
            Err(err(K::TooLong {
                len: value.len(),
                max: usize::from(max),
            }))
        }
        _ => Ok(()),
    }
}

fn pack_field(spec: &FieldSpec, value: &FieldValue<'_>, out: &mut Vec<u8>) -> Result<(), K> {
    let units = match value {
        FieldValue::Text(t) | FieldValue::Bytes(t) => t.len(),
        FieldValue::Packed { digits, .. } => usize::from(*digits),
    };
    match spec.length {
        Length::Fixed(n) if units != usize::from(n) => {
            return Err(K::WrongLength {
                len: units,
                expected: usize::from(n),
            });
        }
        Length::Ll(max) | Length::Lll(max) if units > usize::from(max) => {
            return Err(K::TooLong {
                len: units,
                max: usize::from(max),
            });
        }
        Length::Ll(_) => bcd_prefix(units, 1, out),
        Length::Lll(_) => bcd_prefix(units, 2, out),
        Length::Fixed(_) => {}
    }
    match (value, spec.encoding) {
        (FieldValue::Packed { bcd, .. }, _) => out.extend_from_slice(bcd),
        (FieldValue::Text(t) | FieldValue::Bytes(t), Encoding::Ascii | Encoding::Binary) => {
            out.extend_from_slice(t)
        }
        (FieldValue::Text(t) | FieldValue::Bytes(t), enc @ (Encoding::Bcd | Encoding::Track)) => {
            // A left pad nibble first when the digit count is odd; a right pad 0 at the end.
            let mut hi = (t.len() % 2 == 1 && spec.pad == Pad::Left).then_some(0u8);
            for c in t.iter() {
                let n = char_nibble(*c, enc).ok_or(K::NotNumeric)?;
                match hi.take() {
                    None => hi = Some(n),
                    Some(h) => out.push((h << 4) | n),
                }
            }
            if let Some(h) = hi {
                out.push(h << 4);
            }
        }
    }
    Ok(())
}

fn unpack_field<'a>(spec: &FieldSpec, bytes: &'a [u8]) -> Result<(FieldValue<'a>, usize), K> {
    let (units, prefix) = match spec.length {
        Length::Fixed(n) => (usize::from(n), 0),
        Length::Ll(max) | Length::Lll(max) => {
            let p = if matches!(spec.length, Length::Ll(_)) {
                1
            } else {
                2
            };
            let raw = bytes.get(..p).ok_or_else(|| K::Truncated {
                needed: p - bytes.len(),
            })?;
            let units = read_bcd_number(raw).ok_or(K::NotNumeric)?;
            if units > usize::from(max) {
                return Err(K::TooLong {
                    len: units,
                    max: usize::from(max),
                });
            }
            (units, p)
        }
    };
    let size = units_to_bytes(spec, units);
    let body = bytes
        .get(prefix..prefix + size)
        .ok_or_else(|| K::Truncated {
            needed: prefix + size - bytes.len(),
        })?;
    let value = match spec.encoding {
        Encoding::Ascii => {
            if body.iter().any(|c| is_control(*c)) {
                return Err(K::InvalidChar);
            }
            FieldValue::Text(Cow::Borrowed(body))
        }
        Encoding::Binary => FieldValue::Bytes(Cow::Borrowed(body)),
        enc @ (Encoding::Bcd | Encoding::Track) => {
            if nibbles(body, units, spec.pad).any(|n| nibble_char(n, enc).is_none()) {
                return Err(K::NotNumeric);
            }
            FieldValue::Packed {
                bcd: body,
                digits: units as u16,
            }
        }
    };
    Ok((value, prefix + size))
}
