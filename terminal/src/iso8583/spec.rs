//! The field table of the CUP POS dialect (notes/payments-cup-emv.md §2.2).

/// How a field's content is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Digits, packed BCD (two per byte).
    Bcd,
    /// Track data: digits and the separator `=` (sent as nibble `D`), packed BCD.
    Track,
    /// ASCII text (an, ans).
    Ascii,
    /// Raw bytes.
    Binary,
}

/// Fixed or variable length; variable lengths carry a BCD prefix of 1 (LL) or 2 (LLL) bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// Always this many units.
    Fixed(u16),
    /// Up to this many units, 1-byte BCD prefix.
    Ll(u16),
    /// Up to this many units, 2-byte BCD prefix.
    Lll(u16),
}

/// Where the pad nibble goes when a BCD field has an odd number of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pad {
    /// Digits first, pad `0` at the right (PAN, 22, 60, tracks).
    Right,
    /// Pad `0` at the left (amounts, 23).
    Left,
}

/// One field of the dialect. Units are digits (BCD/track), characters (ASCII) or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Field number 2..=64.
    pub number: u8,
    /// Short name.
    pub name: &'static str,
    /// Content encoding.
    pub encoding: Encoding,
    /// Length rule.
    pub length: Length,
    /// Odd-digit padding for BCD/track.
    pub pad: Pad,
    /// Card-holder data: shown masked by tools unless asked otherwise.
    pub sensitive: bool,
}

const fn f(
    number: u8,
    name: &'static str,
    encoding: Encoding,
    length: Length,
    pad: Pad,
) -> Option<FieldSpec> {
    Some(FieldSpec {
        number,
        name,
        encoding,
        length,
        pad,
        sensitive: false,
    })
}

const fn secret(spec: Option<FieldSpec>) -> Option<FieldSpec> {
    match spec {
        Some(s) => Some(FieldSpec {
            sensitive: true,
            ..s
        }),
        None => None,
    }
}

use Encoding::{Ascii, Bcd, Binary, Track};
use Length::{Fixed, Ll, Lll};
use Pad::{Left, Right};

/// The CUP POS field table, indexed by field number (0 and 1 are unused: no secondary bitmap).
pub static CUP_POS: [Option<FieldSpec>; 65] = {
    let mut t: [Option<FieldSpec>; 65] = [None; 65];
    t[2] = secret(f(2, "PAN", Bcd, Ll(19), Right));
    t[3] = f(3, "processing code", Bcd, Fixed(6), Left);
    t[4] = f(4, "amount", Bcd, Fixed(12), Left);
    t[11] = f(11, "STAN", Bcd, Fixed(6), Left);
    t[12] = f(12, "local time", Bcd, Fixed(6), Left);
    t[13] = f(13, "local date", Bcd, Fixed(4), Left);
    t[14] = secret(f(14, "expiry", Bcd, Fixed(4), Left));
    t[15] = f(15, "settlement date", Bcd, Fixed(4), Left);
    t[22] = f(22, "entry mode", Bcd, Fixed(3), Right);
    t[23] = f(23, "card sequence", Bcd, Fixed(3), Left);
    t[25] = f(25, "condition code", Bcd, Fixed(2), Left);
    t[26] = f(26, "PIN capture code", Bcd, Fixed(2), Left);
    t[32] = f(32, "acquirer id", Bcd, Ll(11), Right);
    t[35] = secret(f(35, "track 2", Track, Ll(37), Right));
    t[36] = secret(f(36, "track 3", Track, Lll(104), Right));
    t[37] = f(37, "RRN", Ascii, Fixed(12), Left);
    t[38] = f(38, "auth code", Ascii, Fixed(6), Left);
    t[39] = f(39, "response code", Ascii, Fixed(2), Left);
    t[41] = f(41, "terminal id", Ascii, Fixed(8), Left);
    t[42] = f(42, "merchant id", Ascii, Fixed(15), Left);
    t[44] = f(44, "additional response", Ascii, Ll(25), Left);
    // Batch upload (0320) carries card numbers here.
    t[48] = secret(f(48, "additional data", Bcd, Lll(322), Right));
    t[49] = f(49, "currency", Ascii, Fixed(3), Left);
    t[52] = secret(f(52, "PIN block", Binary, Fixed(8), Left));
    t[53] = f(53, "security control", Bcd, Fixed(16), Left);
    t[54] = f(54, "balance", Ascii, Lll(20), Left);
    t[55] = secret(f(55, "ICC data", Binary, Lll(255), Left));
    // A customer's payment code for a scan-code payment (our dialect: the CUP POS notes do not
    // cover scan-code payment); a bearer credential while valid, so never shown in logs.
    t[59] = secret(f(59, "payment code", Ascii, Lll(512), Left));
    t[60] = f(60, "reserved private", Bcd, Lll(17), Right);
    t[61] = f(61, "original message", Bcd, Lll(29), Right);
    t[62] = secret(f(62, "keys / terminal info", Binary, Lll(512), Left));
    t[63] = f(63, "operator / reserved", Ascii, Lll(163), Left);
    t[64] = f(64, "MAC", Binary, Fixed(8), Left);
    t
};

/// The spec of field `n`, if the dialect defines it.
pub fn field(n: u8) -> Option<&'static FieldSpec> {
    CUP_POS.get(usize::from(n)).and_then(Option::as_ref)
}

/// The two variants of the CUP POS dialect: they differ in the PIN block only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Dialect {
    /// DES/TDES keys: field 52 holds an 8-byte PIN block (b64).
    #[default]
    Cup,
    /// 国密 (SM4 keys): field 52 holds the 16-byte SM4 PIN block (b128) and field 53
    /// position 2 is `4`. CUP's SM specification is not public: this is this project's
    /// reading of it (a 16-byte cipher block cannot fit in 8 bytes), to be checked against
    /// an acquirer's specification before use.
    CupSm4,
}

static SM4_PIN_BLOCK: Option<FieldSpec> = secret(f(
    52,
    "PIN block (SM4)",
    Encoding::Binary,
    Length::Fixed(16),
    Pad::Left,
));

/// The spec of field `n` in `dialect`.
///
/// ```
/// use pos_terminal::iso8583::spec::{Dialect, Length, field_in};
/// assert_eq!(field_in(52, Dialect::Cup).map(|s| s.length), Some(Length::Fixed(8)));
/// assert_eq!(field_in(52, Dialect::CupSm4).map(|s| s.length), Some(Length::Fixed(16)));
/// ```
pub fn field_in(n: u8, dialect: Dialect) -> Option<&'static FieldSpec> {
    match (n, dialect) {
        (52, Dialect::CupSm4) => SM4_PIN_BLOCK.as_ref(),
        _ => field(n),
    }
}
