//! `scanner:` — code scanners: `scanner:serial:/dev/ttyACM0[:BAUD]` (CR/LF-ended scans).

use crate::{DeviceError, DeviceSelector, Driver, DynCodeScanner, Erased, Listing};

pub(crate) struct ScannerDriver;

fn serial(selector: &DeviceSelector) -> Result<(String, u32), DeviceError> {
    let invalid = |why| DeviceError::invalid(&selector.to_string(), why);
    let rest = selector
        .rest()
        .strip_prefix("serial:")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| invalid("want scanner:serial:<device>[:<baud>]"))?;
    match rest.rsplit_once(':') {
        Some((path, baud)) if !path.is_empty() && baud.bytes().all(|b| b.is_ascii_digit()) => Ok((
            path.into(),
            baud.parse()
                .map_err(|_| invalid("baud rate out of range"))?,
        )),
        _ => Ok((rest.into(), 9600)),
    }
}

impl Driver for ScannerDriver {
    fn name(&self) -> &'static str {
        "scanner"
    }
    fn syntax(&self) -> &'static str {
        "scanner:serial:<device>[:<baud>]"
    }
    fn check(&self, selector: &DeviceSelector) -> Result<(), DeviceError> {
        serial(selector).map(|_| ())
    }
    /// A serial scanner is silent until it reads a code: it is opened by selector only.
    fn list(&self) -> Result<Vec<Listing>, DeviceError> {
        Ok(Vec::new())
    }
    fn open_scanner(&self, selector: &DeviceSelector) -> Result<DynCodeScanner, DeviceError> {
        let (path, baud) = serial(selector)?;
        let scanner =
            pos_scanner::open_serial(&path, baud).map_err(|e| DeviceError::driver(selector, e))?;
        Ok(Box::new(Erased(scanner)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_selectors_with_and_without_baud() {
        let s = |t: &str| t.parse::<DeviceSelector>().expect("selector");
        assert_eq!(
            serial(&s("scanner:serial:/dev/ttyACM0")).expect("ok"),
            ("/dev/ttyACM0".into(), 9600)
        );
        assert_eq!(
            serial(&s("scanner:serial:/dev/ttyS0:115200")).expect("ok"),
            ("/dev/ttyS0".into(), 115_200)
        );
        assert!(serial(&s("scanner:serial:")).is_err());
        assert!(serial(&s("scanner:usb:1234:5678")).is_err());
    }
}
