//! `msr:` — magnetic stripe readers: `msr:serial:/dev/ttyACM0[:BAUD]` today (the USB backends
//! `msr:hidraw:`, `msr:wedge:` and `msr:usb:` come with their drivers).

use crate::{DeviceError, DeviceSelector, Driver, DynMagstripeReader, Erased, Listing};

pub(crate) struct MsrDriver;

fn serial(selector: &DeviceSelector) -> Result<(String, u32), DeviceError> {
    let invalid = |why| DeviceError::invalid(&selector.to_string(), why);
    let rest = selector
        .rest()
        .strip_prefix("serial:")
        .ok_or_else(|| invalid("want msr:serial:<device>[:<baud>]"))?;
    if rest.is_empty() {
        return Err(invalid("want msr:serial:<device>[:<baud>]"));
    }
    match rest.rsplit_once(':') {
        Some((path, baud)) if !path.is_empty() && baud.bytes().all(|b| b.is_ascii_digit()) => Ok((
            path.into(),
            baud.parse()
                .map_err(|_| invalid("baud rate out of range"))?,
        )),
        _ => Ok((rest.into(), 9600)),
    }
}

impl Driver for MsrDriver {
    fn name(&self) -> &'static str {
        "msr"
    }
    fn syntax(&self) -> &'static str {
        "msr:serial:<device>[:<baud>]"
    }
    fn check(&self, selector: &DeviceSelector) -> Result<(), DeviceError> {
        serial(selector).map(|_| ())
    }
    /// A serial reader is silent until swiped: it cannot be found, only opened by selector.
    fn list(&self) -> Result<Vec<Listing>, DeviceError> {
        Ok(Vec::new())
    }
    fn open_magstripe(&self, selector: &DeviceSelector) -> Result<DynMagstripeReader, DeviceError> {
        let (path, baud) = serial(selector)?;
        let reader =
            pos_msr::open_serial(&path, baud).map_err(|e| DeviceError::driver(selector, e))?;
        Ok(Box::new(Erased(reader)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_selectors_with_and_without_baud() {
        let s = |t: &str| t.parse::<DeviceSelector>().expect("selector");
        assert_eq!(
            serial(&s("msr:serial:/dev/ttyACM0")).expect("ok"),
            ("/dev/ttyACM0".into(), 9600)
        );
        assert_eq!(
            serial(&s("msr:serial:/dev/ttyS0:19200")).expect("ok"),
            ("/dev/ttyS0".into(), 19200)
        );
        assert!(serial(&s("msr:hidraw:0801:0002")).is_err());
        assert!(serial(&s("msr:serial:")).is_err());
    }
}
