//! `pn532:` — a PN532 on a serial port through the no_std driver (`pn532:/dev/ttyUSB0`,
//! `pn532:/dev/ttyS1:115200`).

use crate::{DeviceError, DeviceSelector, Driver, DynPiccReader, Erased, Listing};

pub(crate) struct Pn532Driver;

/// Path and baud rate (115200, the HSU default, when not given).
fn path_and_baud(selector: &DeviceSelector) -> Result<(String, u32), DeviceError> {
    let rest = selector.rest();
    if rest.is_empty() {
        return Err(DeviceError::invalid(
            &selector.to_string(),
            "want pn532:<serial device>[:<baud>]",
        ));
    }
    match rest.rsplit_once(':') {
        Some((path, baud)) if !path.is_empty() && baud.bytes().all(|b| b.is_ascii_digit()) => {
            let baud = baud.parse().map_err(|_| {
                DeviceError::invalid(&selector.to_string(), "baud rate out of range")
            })?;
            Ok((path.to_string(), baud))
        }
        _ => Ok((rest.to_string(), 115_200)),
    }
}

impl Driver for Pn532Driver {
    fn name(&self) -> &'static str {
        "pn532"
    }
    fn syntax(&self) -> &'static str {
        "pn532:<serial device>[:<baud>]"
    }
    fn check(&self, selector: &DeviceSelector) -> Result<(), DeviceError> {
        path_and_baud(selector).map(|_| ())
    }
    /// A PN532 on a serial line cannot be found without talking to every port (which could
    /// disturb other devices): it is opened by its selector only.
    fn list(&self) -> Result<Vec<Listing>, DeviceError> {
        Ok(Vec::new())
    }
    fn open_picc(&self, selector: &DeviceSelector) -> Result<DynPiccReader, DeviceError> {
        let (path, baud) = path_and_baud(selector)?;
        let reader =
            pos_pn532::open_serial(&path, baud).map_err(|e| DeviceError::driver(selector, e))?;
        Ok(Box::new(Erased(reader)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_name_a_device_and_an_optional_baud_rate() {
        let s = |t: &str| t.parse::<DeviceSelector>().expect("selector");
        assert_eq!(
            path_and_baud(&s("pn532:/dev/ttyUSB0")).expect("ok"),
            ("/dev/ttyUSB0".to_string(), 115_200)
        );
        assert_eq!(
            path_and_baud(&s("pn532:/dev/ttyS1:460800")).expect("ok"),
            ("/dev/ttyS1".to_string(), 460_800)
        );
        assert!(path_and_baud(&s("pn532:")).is_err());
        assert!(path_and_baud(&s("pn532:/dev/x:99999999999")).is_err());
    }
}
