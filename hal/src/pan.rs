//! Primary account numbers: validated, masked 6+4 when shown, wiped on drop.

use core::fmt;

use crate::bytes::InlineBytes;
use crate::secret::Secret;

/// Why a PAN was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PanError {
    /// Not 12..=19 digits.
    Length {
        /// Digits given.
        len: usize,
    },
    /// A character that is not a decimal digit.
    NotDigit {
        /// Position of the character.
        index: usize,
    },
    /// The Luhn check digit does not match.
    Luhn,
}

impl fmt::Display for PanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PanError::Length { len } => write!(f, "PAN of {len} digits, expected 12 to 19"),
            PanError::NotDigit { index } => write!(f, "PAN has a non-digit at position {index}"),
            PanError::Luhn => f.write_str("PAN fails the Luhn check"),
        }
    }
}

impl core::error::Error for PanError {}

/// A card number. `Display` and `Debug` show it masked (first 6, last 4); only
/// [`reveal`](Pan::reveal) gives the digits, for the card/host exchange.
///
/// ```
/// use pos_hal::Pan;
/// let pan = Pan::parse("6234560000041234")?;
/// assert_eq!(pan.to_string(), "623456******1234");
/// assert_eq!(format!("{pan:?}"), "Pan(623456******1234)");
/// assert_eq!(pan.reveal(), "6234560000041234");
/// assert!(Pan::parse("6234560000041235").is_err()); // Luhn
/// # Ok::<(), pos_hal::PanError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Pan {
    digits: Secret<InlineBytes<19>>,
}

/// True when `digits` (ASCII) passes the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

impl Pan {
    /// Parses 12..=19 ASCII digits with a valid Luhn check digit.
    pub fn parse(text: &str) -> Result<Self, PanError> {
        Self::parse_bytes(text.as_bytes())
    }

    /// Like [`parse`](Self::parse), from ASCII bytes.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, PanError> {
        if let Some(index) = bytes.iter().position(|b| !b.is_ascii_digit()) {
            return Err(PanError::NotDigit { index });
        }
        if !(12..=19).contains(&bytes.len()) {
            return Err(PanError::Length { len: bytes.len() });
        }
        if !luhn_valid(bytes) {
            return Err(PanError::Luhn);
        }
        let digits = InlineBytes::new(bytes).map_err(|_| PanError::Length { len: bytes.len() })?;
        Ok(Self {
            digits: Secret::new(digits),
        })
    }

    /// Parses the EMV form (tag `5A`): BCD digits, padded with `F` nibbles.
    ///
    /// ```
    /// use pos_hal::Pan;
    /// let pan = Pan::from_bcd(&[0x62, 0x34, 0x56, 0x00, 0x00, 0x04, 0x12, 0x34])?;
    /// assert_eq!(pan.reveal(), "6234560000041234");
    /// # Ok::<(), pos_hal::PanError>(())
    /// ```
    pub fn from_bcd(bcd: &[u8]) -> Result<Self, PanError> {
        let mut ascii = Secret::new([0u8; 19]);
        let mut len = 0;
        for (i, nibble) in bcd.iter().flat_map(|b| [b >> 4, b & 0x0F]).enumerate() {
            match nibble {
                0..=9 if len < 19 => {
                    ascii.expose_secret_mut()[len] = b'0' + nibble;
                    len += 1;
                }
                0..=9 => return Err(PanError::Length { len: len + 1 }),
                0x0F => break,
                _ => return Err(PanError::NotDigit { index: i }),
            }
        }
        Self::parse_bytes(&ascii.expose_secret()[..len])
    }

    /// The full number. Only for the card/host exchange: never log it.
    pub fn reveal(&self) -> &str {
        core::str::from_utf8(self.digits()).unwrap_or_default()
    }

    fn digits(&self) -> &[u8] {
        self.digits.expose_secret().as_bytes()
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.digits.expose_secret().len()
    }

    /// Always false: a PAN has at least 12 digits.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The last four digits (shown on receipts and for confirmation).
    pub fn last4(&self) -> &str {
        &self.reveal()[self.len() - 4..]
    }

    /// The first six digits (issuer identification number).
    pub fn bin(&self) -> &str {
        &self.reveal()[..6]
    }
}

impl fmt::Display for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.digits();
        let n = digits.len();
        for (i, d) in digits.iter().enumerate() {
            let shown = i < 6 || i >= n - 4;
            f.write_str(if shown { digit_str(*d) } else { "*" })?;
        }
        Ok(())
    }
}

fn digit_str(d: u8) -> &'static str {
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    DIGITS[usize::from(d.saturating_sub(b'0')).min(9)]
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::format;
    use std::string::{String, ToString};

    #[test]
    fn errors_are_typed() {
        assert_eq!(Pan::parse("12345"), Err(PanError::Length { len: 5 }));
        assert_eq!(
            Pan::parse("62345600000012x4"),
            Err(PanError::NotDigit { index: 14 })
        );
        assert_eq!(Pan::parse("4111111111111112"), Err(PanError::Luhn));
        assert_eq!(
            Pan::from_bcd(&[0x41, 0xA1]),
            Err(PanError::NotDigit { index: 2 })
        );
    }

    #[test]
    fn masks_six_and_four_for_every_length() {
        let pan = Pan::parse("4111111111111111").expect("valid");
        assert_eq!(pan.to_string(), "411111******1111");
        assert_eq!(pan.last4(), "1111");
        assert_eq!(pan.bin(), "411111");
        let short = Pan::parse("411111111117").expect("12 digits");
        assert_eq!(short.to_string(), "411111**1117");
    }

    proptest! {
        #[test]
        fn display_and_debug_never_show_middle_digits(body in "[0-9]{11,18}") {
            // Make the Luhn digit right so that the PAN parses.
            let check = (0..10u8).find(|c| {
                let mut s = body.clone().into_bytes();
                s.push(b'0' + c);
                luhn_valid(&s)
            }).expect("one check digit fits");
            let text: String = format!("{body}{check}");
            let pan = Pan::parse(&text).expect("valid");
            let shown = pan.to_string();
            prop_assert_eq!(&shown[..6], &text[..6]);
            prop_assert_eq!(&shown[text.len() - 4..], &text[text.len() - 4..]);
            prop_assert!(shown[6..text.len() - 4].chars().all(|c| c == '*'));
            let debug = format!("{pan:?}");
            prop_assert_eq!(debug, format!("Pan({shown})"));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,25}", bcd in proptest::collection::vec(any::<u8>(), 0..12)) {
            let _ = Pan::parse(&text);
            let _ = Pan::from_bcd(&bcd);
        }
    }
}
