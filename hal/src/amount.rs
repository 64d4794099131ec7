//! Money in minor units (fen for CNY), entered digit by digit as on a POS keypad.

use core::fmt;
use core::str::FromStr;

/// Why an amount is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmountError {
    /// More than [`Amount::MAX`] (the 12 digits of ISO 8583 field 4).
    Overflow,
    /// A subtraction would go below zero.
    Negative,
    /// A keypad digit outside 0..=9.
    InvalidDigit(u8),
    /// Text that is not `123`, `123.4` or `123.45`.
    Syntax,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Overflow => f.write_str("amount exceeds 9999999999.99"),
            AmountError::Negative => f.write_str("amount would be negative"),
            AmountError::InvalidDigit(d) => write!(f, "{d} is not a decimal digit"),
            AmountError::Syntax => f.write_str("amount must look like 123.45"),
        }
    }
}

impl core::error::Error for AmountError {}

/// A non-negative amount in minor units with two decimals (CNY: 1 yuan = 100 fen).
///
/// Keypad entry works as on a bank-card POS: digits shift in from the right.
///
/// ```
/// use pos_hal::Amount;
/// let five = Amount::ZERO.push_digit(5)?;
/// assert_eq!(five.to_string(), "0.05");
/// let fifty = five.push_digit(0)?;
/// assert_eq!(fifty.to_string(), "0.50");
/// assert_eq!(fifty.push_digit(0)?.push_digit(0)?.to_string(), "50.00");
/// assert_eq!("12.3".parse::<Amount>()?, Amount::from_minor(1230)?);
/// # Ok::<(), pos_hal::AmountError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u64);

impl Amount {
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// The largest amount ISO 8583 field 4 (n12) carries.
    pub const MAX: Self = Self(999_999_999_999);

    /// From minor units; fails above [`Amount::MAX`].
    pub const fn from_minor(minor: u64) -> Result<Self, AmountError> {
        if minor > Self::MAX.0 {
            Err(AmountError::Overflow)
        } else {
            Ok(Self(minor))
        }
    }

    /// Minor units.
    pub const fn minor(self) -> u64 {
        self.0
    }

    /// Shifts a keypad digit in from the right (typing 5 then 0 gives 0.50).
    pub fn push_digit(self, digit: u8) -> Result<Self, AmountError> {
        if digit > 9 {
            return Err(AmountError::InvalidDigit(digit));
        }
        let shifted = self
            .0
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit)));
        Self::from_minor(shifted.ok_or(AmountError::Overflow)?)
    }

    /// Removes the last typed digit (the keypad's backspace).
    pub const fn pop_digit(self) -> Self {
        Self(self.0 / 10)
    }

    /// Sum, or [`AmountError::Overflow`].
    pub fn checked_add(self, other: Self) -> Result<Self, AmountError> {
        Self::from_minor(self.0.checked_add(other.0).ok_or(AmountError::Overflow)?)
    }

    /// Difference, or [`AmountError::Negative`].
    pub fn checked_sub(self, other: Self) -> Result<Self, AmountError> {
        self.0
            .checked_sub(other.0)
            .map(Self)
            .ok_or(AmountError::Negative)
    }

    /// The 12 ASCII digits of ISO 8583 field 4.
    ///
    /// ```
    /// # use pos_hal::Amount;
    /// assert_eq!(&Amount::from_minor(50)?.to_n12(), b"000000000050");
    /// # Ok::<(), pos_hal::AmountError>(())
    /// ```
    pub fn to_n12(self) -> [u8; 12] {
        let mut out = [b'0'; 12];
        let mut v = self.0;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        if whole.is_empty() || frac.len() > 2 || text.ends_with('.') {
            return Err(AmountError::Syntax);
        }
        let mut amount = Amount::ZERO;
        for b in whole.bytes().chain(frac.bytes()) {
            if !b.is_ascii_digit() {
                return Err(AmountError::Syntax);
            }
            amount = amount.push_digit(b - b'0')?;
        }
        for _ in frac.len()..2 {
            amount = amount.push_digit(0)?;
        }
        Ok(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;

    #[test]
    fn overflow_and_bad_input_are_errors() {
        let mut a = Amount::ZERO;
        for _ in 0..12 {
            a = a.push_digit(9).expect("fits");
        }
        assert_eq!(a, Amount::MAX);
        assert_eq!(a.push_digit(0), Err(AmountError::Overflow));
        assert_eq!(
            Amount::ZERO.push_digit(10),
            Err(AmountError::InvalidDigit(10))
        );
        assert_eq!(Amount::from_minor(u64::MAX), Err(AmountError::Overflow));
        assert_eq!(
            Amount::MAX.checked_add(Amount(1)),
            Err(AmountError::Overflow)
        );
        assert_eq!(
            Amount::ZERO.checked_sub(Amount(1)),
            Err(AmountError::Negative)
        );
        for bad in ["", ".5", "1.", "1.234", "a", "1,00", "-1", "1.2.3"] {
            assert_eq!(bad.parse::<Amount>(), Err(AmountError::Syntax), "{bad}");
        }
        assert_eq!("10000000000".parse::<Amount>(), Err(AmountError::Overflow));
        assert_eq!(Amount(123).pop_digit().to_string(), "0.12");
    }

    proptest! {
        #[test]
        fn display_parses_back(minor in 0u64..=999_999_999_999) {
            let a = Amount::from_minor(minor).expect("in range");
            prop_assert_eq!(a.to_string().parse::<Amount>(), Ok(a));
            prop_assert_eq!(core::str::from_utf8(&a.to_n12()).ok().and_then(|s| s.parse::<u64>().ok()), Some(minor));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,20}") {
            let _ = text.parse::<Amount>();
        }
    }
}
