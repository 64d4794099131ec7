//! ISO 7813 magnetic stripe tracks. Track data is card-holder data: it is never shown in
//! clear by `Debug`, and it is wiped on drop.

use core::fmt;

use crate::bytes::InlineBytes;
use crate::pan::{Pan, PanError};
use crate::secret::Secret;

/// Why track data was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackError {
    /// Empty track.
    Empty,
    /// Longer than the track can hold.
    TooLong {
        /// Characters given.
        len: usize,
        /// The track's maximum.
        max: usize,
    },
    /// A character outside the track's character set.
    InvalidChar {
        /// Position in the input.
        index: usize,
    },
    /// Track 1 without the `B` format code.
    FormatCode,
    /// A field separator (`=`/`D` on track 2, `^` on track 1) is missing.
    MissingSeparator,
    /// The PAN field is invalid.
    Pan(PanError),
    /// Expiry date or service code missing or not numeric.
    ExpiryOrServiceCode,
}

impl fmt::Display for TrackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackError::Empty => f.write_str("empty track"),
            TrackError::TooLong { len, max } => write!(f, "track of {len} chars exceeds {max}"),
            TrackError::InvalidChar { index } => write!(f, "invalid track character at {index}"),
            TrackError::FormatCode => f.write_str("track 1 format code is not 'B'"),
            TrackError::MissingSeparator => f.write_str("track field separator missing"),
            TrackError::Pan(e) => write!(f, "track PAN: {e}"),
            TrackError::ExpiryOrServiceCode => f.write_str("track expiry/service code invalid"),
        }
    }
}

impl core::error::Error for TrackError {}

impl From<PanError> for TrackError {
    fn from(e: PanError) -> Self {
        TrackError::Pan(e)
    }
}

/// The three-digit service code of tracks 1 and 2.
///
/// ```
/// use pos_hal::ServiceCode;
/// let sc = ServiceCode::new(*b"220").expect("digits");
/// assert!(sc.is_chip_card());
/// assert!(sc.requires_pin());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCode([u8; 3]);

impl ServiceCode {
    /// From three ASCII digits.
    pub fn new(digits: [u8; 3]) -> Option<Self> {
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then_some(Self(digits))
    }
    /// The digits as text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
    /// First digit 2 or 6: the card has a chip, so a swipe must be answered with "insert card".
    pub fn is_chip_card(&self) -> bool {
        matches!(self.0[0], b'2' | b'6')
    }
    /// Third digit 0, 3 or 5: PIN required.
    pub fn requires_pin(&self) -> bool {
        matches!(self.0[2], b'0' | b'3' | b'5')
    }
}

macro_rules! track_type {
    ($name:ident, $max:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name {
            chars: Secret<InlineBytes<$max>>,
        }

        impl $name {
            /// Maximum data characters (without sentinels and LRC).
            pub const MAX_LEN: usize = $max;

            /// `data` was checked against `MAX_LEN` by the parser.
            fn store(data: &[u8]) -> Self {
                Self {
                    chars: Secret::new(InlineBytes::truncated(data)),
                }
            }

            /// The track data without sentinels. Card-holder data: only for
            /// encryption towards the host, never for logs or receipts.
            pub fn reveal(&self) -> &str {
                core::str::from_utf8(self.chars.expose_secret().as_bytes()).unwrap_or_default()
            }

            /// Number of data characters.
            pub fn len(&self) -> usize {
                self.chars.expose_secret().len()
            }

            /// True when the track holds no characters.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    concat!(stringify!($name), "(<{} chars redacted>)"),
                    self.len()
                )
            }
        }
    };
}

track_type!(
    Track1,
    76,
    "ISO 7813 track 1 (alphanumeric): `B PAN ^ NAME ^ YYMM SSS …`."
);
track_type!(
    Track2,
    37,
    "ISO 7813 track 2 (numeric): `PAN = YYMM SSS …`."
);
track_type!(Track3, 104, "ISO 4909 track 3 (numeric); kept as read.");

/// Strips a leading start sentinel and a trailing end sentinel (+ optional LRC).
fn strip_sentinels(raw: &[u8], start: u8) -> &[u8] {
    let body = raw.strip_prefix(&[start]).unwrap_or(raw);
    match body.iter().position(|&c| c == b'?') {
        Some(end) => &body[..end],
        None => body,
    }
}

fn check_len(data: &[u8], max: usize) -> Result<(), TrackError> {
    if data.is_empty() {
        return Err(TrackError::Empty);
    }
    if data.len() > max {
        return Err(TrackError::TooLong {
            len: data.len(),
            max,
        });
    }
    Ok(())
}

fn expiry_and_service(rest: &[u8]) -> Result<(), TrackError> {
    if rest.len() < 7 || !rest[..7].iter().all(u8::is_ascii_digit) {
        return Err(TrackError::ExpiryOrServiceCode);
    }
    Ok(())
}

impl Track2 {
    /// Parses track 2 as a reader delivers it: `;PAN=YYMMSSS…?` (sentinels optional).
    pub fn parse(raw: &str) -> Result<Self, TrackError> {
        let data = strip_sentinels(raw.as_bytes(), b';');
        check_len(data, Self::MAX_LEN)?;
        if let Some(index) = data
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == b'='))
        {
            return Err(TrackError::InvalidChar { index });
        }
        let sep = data
            .iter()
            .position(|&c| c == b'=')
            .ok_or(TrackError::MissingSeparator)?;
        Pan::parse_bytes(&data[..sep])?;
        expiry_and_service(&data[sep + 1..])?;
        Ok(Self::store(data))
    }

    /// Parses EMV "track 2 equivalent data" (tag `57`): BCD with `D` as separator and `F` padding.
    ///
    /// ```
    /// use pos_hal::Track2;
    /// let t2 = Track2::from_equivalent_data(&[0x62, 0x34, 0x56, 0x00, 0x00, 0x04, 0x12, 0x34, 0xD3, 0x01, 0x22, 0x01, 0x12, 0x3F])?;
    /// assert_eq!(t2.pan()?.to_string(), "623456******1234");
    /// assert_eq!(t2.expiry(), "3012");
    /// # Ok::<(), pos_hal::TrackError>(())
    /// ```
    pub fn from_equivalent_data(bcd: &[u8]) -> Result<Self, TrackError> {
        // A Secret, so that every return path (errors too) wipes the clear digits.
        let mut ascii = Secret::new([0u8; 37]);
        let mut len = 0;
        for (i, nibble) in bcd.iter().flat_map(|b| [b >> 4, b & 0x0F]).enumerate() {
            let c = match nibble {
                0..=9 => b'0' + nibble,
                0x0D => b'=',
                0x0F if i + 1 >= bcd.len() * 2 => break,
                _ => return Err(TrackError::InvalidChar { index: i }),
            };
            if len == Self::MAX_LEN {
                return Err(TrackError::TooLong {
                    len: len + 1,
                    max: Self::MAX_LEN,
                });
            }
            ascii.expose_secret_mut()[len] = c;
            len += 1;
        }
        let text = core::str::from_utf8(&ascii.expose_secret()[..len])
            .map_err(|_| TrackError::InvalidChar { index: 0 })?;
        Self::parse(text)
    }

    fn separator(&self) -> usize {
        self.reveal().find('=').unwrap_or(0)
    }

    /// The card number.
    pub fn pan(&self) -> Result<Pan, TrackError> {
        Ok(Pan::parse(&self.reveal()[..self.separator()])?)
    }

    /// Expiry date as `YYMM`.
    pub fn expiry(&self) -> &str {
        let s = self.separator() + 1;
        &self.reveal()[s..s + 4]
    }

    /// The service code.
    pub fn service_code(&self) -> ServiceCode {
        let s = self.separator() + 5;
        let d = &self.reveal().as_bytes()[s..s + 3];
        ServiceCode([d[0], d[1], d[2]])
    }
}

impl Track1 {
    /// Parses track 1: `%B PAN ^ NAME ^ YYMM SSS …?` (sentinels optional).
    pub fn parse(raw: &str) -> Result<Self, TrackError> {
        let data = strip_sentinels(raw.as_bytes(), b'%');
        check_len(data, Self::MAX_LEN)?;
        if let Some(index) = data
            .iter()
            .position(|c| !(0x20..=0x5F).contains(c) || *c == b'?' || *c == b'%')
        {
            return Err(TrackError::InvalidChar { index });
        }
        if data[0] != b'B' {
            return Err(TrackError::FormatCode);
        }
        let mut fields = data[1..].splitn(3, |&c| c == b'^');
        let pan = fields.next().ok_or(TrackError::MissingSeparator)?;
        let _name = fields.next().ok_or(TrackError::MissingSeparator)?;
        let rest = fields.next().ok_or(TrackError::MissingSeparator)?;
        Pan::parse_bytes(pan)?;
        expiry_and_service(rest)?;
        Ok(Self::store(data))
    }

    fn fields(&self) -> (&str, &str, &str) {
        let mut it = self.reveal()[1..].splitn(3, '^');
        (
            it.next().unwrap_or(""),
            it.next().unwrap_or(""),
            it.next().unwrap_or(""),
        )
    }

    /// The card number.
    pub fn pan(&self) -> Result<Pan, TrackError> {
        Ok(Pan::parse(self.fields().0)?)
    }

    /// The card holder name as encoded (`SURNAME/GIVEN`), trimmed.
    pub fn name(&self) -> &str {
        self.fields().1.trim()
    }

    /// Expiry date as `YYMM`.
    pub fn expiry(&self) -> &str {
        &self.fields().2[..4]
    }

    /// The service code.
    pub fn service_code(&self) -> ServiceCode {
        let d = &self.fields().2.as_bytes()[4..7];
        ServiceCode([d[0], d[1], d[2]])
    }
}

impl Track3 {
    /// Parses track 3 (`;…?`, numeric characters `0`–`9` `:` `;` `<` `=` `>`).
    pub fn parse(raw: &str) -> Result<Self, TrackError> {
        let data = strip_sentinels(raw.as_bytes(), b';');
        check_len(data, Self::MAX_LEN)?;
        if let Some(index) = data.iter().position(|c| !(0x30..=0x3E).contains(c)) {
            return Err(TrackError::InvalidChar { index });
        }
        Ok(Self::store(data))
    }
}

/// The tracks of one swipe. `Debug` redacts them.
///
/// ```
/// use pos_hal::{Track2, Tracks};
/// let tracks = Tracks::new(None, Some(Track2::parse(";6234560000041234=30122011234?")?), None);
/// assert_eq!(tracks.pan()?.to_string(), "623456******1234");
/// assert!(!format!("{tracks:?}").contains("6234560000041234"));
/// # Ok::<(), pos_hal::TrackError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Tracks {
    /// Track 1, if read.
    pub track1: Option<Track1>,
    /// Track 2, if read.
    pub track2: Option<Track2>,
    /// Track 3, if read.
    pub track3: Option<Track3>,
}

impl Tracks {
    /// The tracks of one swipe.
    pub fn new(track1: Option<Track1>, track2: Option<Track2>, track3: Option<Track3>) -> Self {
        Self {
            track1,
            track2,
            track3,
        }
    }

    /// The PAN from track 2, else track 1.
    pub fn pan(&self) -> Result<Pan, TrackError> {
        match (&self.track2, &self.track1) {
            (Some(t2), _) => t2.pan(),
            (None, Some(t1)) => t1.pan(),
            (None, None) => Err(TrackError::Empty),
        }
    }

    /// The service code from track 2, else track 1.
    pub fn service_code(&self) -> Option<ServiceCode> {
        self.track2
            .as_ref()
            .map(Track2::service_code)
            .or_else(|| self.track1.as_ref().map(Track1::service_code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::format;
    use std::string::String;

    #[test]
    fn parses_iso7813_tracks() {
        let t1 = Track1::parse("%B6234560000041234^ZHANG/SAN^3012201000000000?").expect("t1");
        assert_eq!(t1.name(), "ZHANG/SAN");
        assert_eq!(t1.expiry(), "3012");
        assert!(t1.service_code().is_chip_card());
        let t2 = Track2::parse("6234560000041234=30121011234").expect("t2");
        assert!(!t2.service_code().is_chip_card());
        assert_eq!(
            Track3::parse(";996234560000041234==1560000?").map(|t| t.len()),
            Ok(27)
        );
    }

    #[test]
    fn malformed_tracks_are_typed_errors() {
        assert_eq!(Track2::parse(";?"), Err(TrackError::Empty));
        assert_eq!(
            Track2::parse("6234560000041234D3012"),
            Err(TrackError::InvalidChar { index: 16 })
        );
        assert_eq!(
            Track2::parse("6234560000041234"),
            Err(TrackError::MissingSeparator)
        );
        assert_eq!(
            Track2::parse("6234560000041234=30"),
            Err(TrackError::ExpiryOrServiceCode)
        );
        assert_eq!(
            Track2::parse("6234560000041235=3012101"),
            Err(TrackError::Pan(PanError::Luhn))
        );
        assert!(matches!(
            Track2::parse(&"1".repeat(40)),
            Err(TrackError::TooLong { .. })
        ));
        assert_eq!(
            Track1::parse("%A1234^X^3012101?"),
            Err(TrackError::FormatCode)
        );
        assert_eq!(
            Track1::parse("%B6234560000041234^NAME"),
            Err(TrackError::MissingSeparator)
        );
        assert_eq!(
            Track3::parse(";12a?"),
            Err(TrackError::InvalidChar { index: 2 })
        );
        assert_eq!(
            Track2::from_equivalent_data(&[0x62, 0xAB]),
            Err(TrackError::InvalidChar { index: 2 })
        );
    }

    #[test]
    fn debug_never_shows_track_data() {
        let t2 = Track2::parse("6234560000041234=30121011234").expect("t2");
        let shown = format!("{t2:?}");
        assert_eq!(shown, "Track2(<28 chars redacted>)");
    }

    proptest! {
        #[test]
        fn never_panics(text in "[;%]?[ -_]{0,110}\\??") {
            let _ = Track1::parse(&text);
            let _ = Track2::parse(&text);
            let _ = Track3::parse(&text);
        }

        #[test]
        fn equivalent_data_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..25)) {
            let _ = Track2::from_equivalent_data(&bytes);
        }

        #[test]
        fn track2_round_trips(
            body in "[0-9]{15}", exp in "[0-9]{4}", sc in "[0-9]{3}", disc in "[0-9]{0,10}"
        ) {
            let check = (0..10u8).find(|c| {
                let mut s = body.clone().into_bytes();
                s.push(b'0' + c);
                crate::pan::luhn_valid(&s)
            }).expect("a check digit");
            let text: String = format!("{body}{check}={exp}{sc}{disc}");
            let t2 = Track2::parse(&format!(";{text}?")).expect("valid");
            prop_assert_eq!(t2.reveal(), text.as_str());
            prop_assert_eq!(t2.expiry(), exp.as_str());
            let code = t2.service_code();
            prop_assert_eq!(code.as_str(), sc.as_str());
            let again = Track2::parse(t2.reveal()).expect("reparses");
            prop_assert_eq!(again, t2);
        }

        #[test]
        fn track1_round_trips(body in "[0-9]{15}", name in "[A-Z/ ]{2,20}", rest in "[0-9]{7,20}") {
            let check = (0..10u8).find(|c| {
                let mut s = body.clone().into_bytes();
                s.push(b'0' + c);
                crate::pan::luhn_valid(&s)
            }).expect("a check digit");
            let text: String = format!("B{body}{check}^{name}^{rest}");
            let t1 = Track1::parse(&format!("%{text}?")).expect("valid");
            prop_assert_eq!(t1.reveal(), text.as_str());
            prop_assert_eq!(t1.name(), name.trim());
        }
    }
}
