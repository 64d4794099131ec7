//! Wall-clock time (settlement day, receipts, ISO 8583 fields 12/13) and monotonic time.

use core::fmt;
use core::time::Duration;

use crate::error::ErrorType;

/// Why a date/time is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTimeError {
    /// A field is out of range (month 13, 30 February, hour 24…).
    OutOfRange,
}

impl fmt::Display for DateTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("date/time field out of range")
    }
}

impl core::error::Error for DateTimeError {}

/// A validated local date and time (year 2000–2099, as on terminal RTCs).
///
/// ```
/// use pos_hal::DateTime;
/// let t = DateTime::new(2026, 11, 23, 19, 36, 2)?;
/// assert_eq!(t.to_string(), "2026-11-23 19:36:02");
/// assert_eq!(&t.mmdd(), b"1123");
/// assert!(DateTime::new(2026, 2, 29, 0, 0, 0).is_err());
/// # Ok::<(), pos_hal::DateTimeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

impl DateTime {
    /// The civil date and time of `secs` seconds after 1970-01-01 00:00:00 (Howard Hinnant's
    /// days-from-civil algorithm, inverted), shifted by `offset_secs` (China: +8 h); an instant
    /// outside 2000–2099 is an error.
    ///
    /// ```
    /// use pos_hal::DateTime;
    /// let t = DateTime::from_unix(1_796_083_200, 8 * 3600)?; // 2026-12-01 00:00:00 UTC
    /// assert_eq!((t.year(), t.month(), t.day(), t.hour()), (2026, 12, 1, 8));
    /// # Ok::<(), pos_hal::DateTimeError>(())
    /// ```
    pub fn from_unix(secs: u64, offset_secs: i64) -> Result<Self, DateTimeError> {
        let local = i64::try_from(secs)
            .ok()
            .and_then(|s| s.checked_add(offset_secs))
            .ok_or(DateTimeError::OutOfRange)?;
        let rem = local.rem_euclid(86_400);
        let z = local.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        let year = u16::try_from(y).map_err(|_| DateTimeError::OutOfRange)?;
        Self::new(
            year,
            m as u8,
            d as u8,
            (rem / 3600) as u8,
            (rem % 3600 / 60) as u8,
            (rem % 60) as u8,
        )
    }

    /// Validates and builds a date/time.
    pub const fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<Self, DateTimeError> {
        if year < 2000
            || year > 2099
            || month == 0
            || month > 12
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(DateTimeError::OutOfRange);
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }
    /// Year.
    pub const fn year(&self) -> u16 {
        self.year
    }
    /// Month 1–12.
    pub const fn month(&self) -> u8 {
        self.month
    }
    /// Day 1–31.
    pub const fn day(&self) -> u8 {
        self.day
    }
    /// Hour 0–23.
    pub const fn hour(&self) -> u8 {
        self.hour
    }
    /// Minute.
    pub const fn minute(&self) -> u8 {
        self.minute
    }
    /// Second.
    pub const fn second(&self) -> u8 {
        self.second
    }
    /// `MMDD` (ISO 8583 field 13).
    pub const fn mmdd(&self) -> [u8; 4] {
        [
            b'0' + self.month / 10,
            b'0' + self.month % 10,
            b'0' + self.day / 10,
            b'0' + self.day % 10,
        ]
    }
    /// `hhmmss` (ISO 8583 field 12).
    pub const fn hhmmss(&self) -> [u8; 6] {
        [
            b'0' + self.hour / 10,
            b'0' + self.hour % 10,
            b'0' + self.minute / 10,
            b'0' + self.minute % 10,
            b'0' + self.second / 10,
            b'0' + self.second % 10,
        ]
    }
    /// Same calendar day (the open batch belongs to "today").
    pub const fn same_day(&self, other: &Self) -> bool {
        self.year == other.year && self.month == other.month && self.day == other.day
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// A clock. Tests use a mock clock that they advance by hand.
///
/// *Provisional*: no real device implements it yet; it is frozen once two do (embedded-hal's
/// rule).
pub trait Clock: ErrorType {
    /// Local wall-clock time.
    fn now(&mut self) -> Result<DateTime, Self::Error>;
    /// Monotonic time since an arbitrary start (for timeouts; never goes back).
    fn uptime(&mut self) -> Duration;
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_instant_converts_or_is_out_of_range(secs in proptest::prelude::any::<u64>(), offset in -86_400i64..86_400) {
            if let Ok(t) = DateTime::from_unix(secs, offset) {
                proptest::prop_assert!((2000..=2099).contains(&t.year()));
            }
        }
    }

    #[test]
    fn leap_days_and_year_ends_convert() {
        // 2028-02-29 12:00:00 UTC and 2099-12-31 23:59:59 UTC.
        let leap = DateTime::from_unix(1_835_438_400, 0).expect("in range");
        assert_eq!(
            (leap.year(), leap.month(), leap.day(), leap.hour()),
            (2028, 2, 29, 12)
        );
        let last = DateTime::from_unix(4_102_444_799, 0).expect("in range");
        assert_eq!((last.month(), last.day(), last.second()), (12, 31, 59));
        assert!(
            DateTime::from_unix(4_102_444_800, 0).is_err(),
            "2100 is out of range"
        );
    }

    #[test]
    fn validates_calendar() {
        assert!(DateTime::new(2024, 2, 29, 23, 59, 59).is_ok());
        assert!(DateTime::new(2100, 1, 1, 0, 0, 0).is_err());
        assert!(DateTime::new(2026, 4, 31, 0, 0, 0).is_err());
        assert!(DateTime::new(2026, 1, 1, 24, 0, 0).is_err());
        let a = DateTime::new(2026, 1, 1, 0, 0, 0).expect("valid");
        let b = DateTime::new(2026, 1, 1, 23, 0, 0).expect("valid");
        assert!(a.same_day(&b) && a < b);
        assert_eq!(&b.hhmmss(), b"230000");
    }
}

macro_rules! forward_clock {
    ($($ty:ty),*) => {$(
        impl<T: Clock + ?Sized> Clock for $ty {
            fn now(&mut self) -> Result<DateTime, Self::Error> {
                T::now(self)
            }
            fn uptime(&mut self) -> Duration {
                T::uptime(self)
            }
        }
    )*};
}
forward_clock!(&mut T);
#[cfg(feature = "alloc")]
forward_clock!(alloc::boxed::Box<T>);
