//! `driver:rest` selector strings (probe-rs's `DebugProbeSelector` idea).

use std::fmt;
use std::str::FromStr;

use crate::DeviceError;

/// Names one device of one driver: `driver:rest`, e.g. `pcsc:~ACR1252`,
/// `escpos:tcp:192.168.1.50:9100`.
///
/// Parsing checks the shape only (a known driver's own syntax is checked by
/// [`crate::parse`]); `Display` prints the text it was parsed from, so a selector round-trips.
///
/// ```
/// use pos_devices::DeviceSelector;
/// let s: DeviceSelector = "escpos:tcp:127.0.0.1:9100".parse()?;
/// assert_eq!(s.driver(), "escpos");
/// assert_eq!(s.rest(), "tcp:127.0.0.1:9100");
/// assert_eq!(s.to_string(), "escpos:tcp:127.0.0.1:9100");
/// assert!("no-colon".parse::<DeviceSelector>().is_err());
/// # Ok::<(), pos_devices::DeviceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceSelector {
    driver: String,
    rest: String,
}

impl DeviceSelector {
    /// A selector from its parts; `driver` must be lower-case letters, digits and `-`.
    pub fn new(driver: &str, rest: &str) -> Result<Self, DeviceError> {
        format!("{driver}:{rest}").parse()
    }

    /// The driver name before the first `:`.
    pub fn driver(&self) -> &str {
        &self.driver
    }

    /// Everything after the first `:`, in the driver's own syntax.
    pub fn rest(&self) -> &str {
        &self.rest
    }
}

impl FromStr for DeviceSelector {
    type Err = DeviceError;

    fn from_str(text: &str) -> Result<Self, DeviceError> {
        let invalid = |reason: &'static str| DeviceError::InvalidSelector {
            selector: text.to_string(),
            reason,
        };
        let (driver, rest) = text.split_once(':').ok_or_else(|| {
            invalid("expected driver:device, e.g. pcsc:~ACR or escpos:tcp:HOST:9100")
        })?;
        if driver.is_empty()
            || !driver
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(
                "the driver name is lower-case letters, digits and '-'",
            ));
        }
        if rest.chars().any(char::is_control) {
            return Err(invalid("control characters are not allowed"));
        }
        Ok(Self {
            driver: driver.to_string(),
            rest: rest.to_string(),
        })
    }
}

impl fmt::Display for DeviceSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.driver, self.rest)
    }
}

impl serde::Serialize for DeviceSelector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DeviceSelector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_printed_selector_parses_back_to_itself(driver in "[a-z0-9-]{1,10}", rest in "[^\\p{Cc}]{0,40}") {
            let s = DeviceSelector::new(&driver, &rest).expect("valid parts");
            let text = s.to_string();
            prop_assert_eq!(text.parse::<DeviceSelector>().ok(), Some(s.clone()));
            let json = serde_json::to_string(&s).expect("serialises");
            prop_assert_eq!(serde_json::from_str::<DeviceSelector>(&json).ok(), Some(s));
        }

        #[test]
        fn any_text_is_a_selector_or_an_invalid_input_error(text in ".{0,40}") {
            use pos_hal::Error as _;
            if let Err(e) = text.parse::<DeviceSelector>() {
                prop_assert_eq!(e.kind(), pos_hal::ErrorKind::InvalidInput);
                prop_assert!(e.to_string().contains(&format!("{text:?}")), "{e}");
            }
        }
    }
}
