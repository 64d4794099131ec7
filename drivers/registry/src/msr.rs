//! `msr:` — magnetic stripe readers: `msr:serial:/dev/ttyACM0[:BAUD]`, USB vendor-HID readers
//! through libusb `msr:usb:VID:PID[:SERIAL]` (MagTek 0801:0002, IDTech 0acd:2010) and keyboard
//! wedges through libusb `msr:wedge:VID:PID[:SERIAL]` (usbhid detached while in use, so the
//! swipe never types into a window), and on Linux vendor-HID readers on their hidraw node
//! `msr:hidraw:VID:PID[:SERIAL]` (kernel driver left bound) and keyboard wedges on their
//! input nodes `msr:evdev:VID:PID[:SERIAL]` (grabbed: the keystrokes reach no other program;
//! kernel driver left bound).

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

fn hex16(text: &str) -> Option<u16> {
    (text.len() == 4)
        .then(|| u16::from_str_radix(text, 16).ok())
        .flatten()
}

/// `VID:PID[:SERIAL]` after `usb:` or `wedge:`.
fn usb(
    selector: &DeviceSelector,
) -> Result<(pos_msr::usb::UsbFormat, u16, u16, Option<String>), DeviceError> {
    let invalid = |why| DeviceError::invalid(&selector.to_string(), why);
    let (format, rest) = match selector.rest().split_once(':') {
        Some(("usb" | "hidraw", rest)) => (pos_msr::usb::UsbFormat::Vendor, rest),
        Some(("wedge" | "evdev", rest)) => (pos_msr::usb::UsbFormat::Wedge, rest),
        _ => {
            return Err(invalid(
                "want msr:serial:…, msr:usb:…, msr:wedge:…, msr:hidraw:… or msr:evdev:VID:PID[:SERIAL]",
            ));
        }
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(vid), Some(pid)) = (parts.next().and_then(hex16), parts.next().and_then(hex16))
    else {
        return Err(invalid("VID and PID are 4 hex digits each"));
    };
    Ok((format, vid, pid, parts.next().map(str::to_string)))
}

impl Driver for MsrDriver {
    fn name(&self) -> &'static str {
        "msr"
    }
    fn syntax(&self) -> &'static str {
        "msr:serial:<device>[:<baud>] | msr:usb:<vid>:<pid>[:<serial>] | msr:wedge:<vid>:<pid>[:<serial>] | msr:hidraw:<vid>:<pid>[:<serial>] | msr:evdev:<vid>:<pid>[:<serial>]"
    }
    fn check(&self, selector: &DeviceSelector) -> Result<(), DeviceError> {
        if selector.rest().starts_with("serial:") {
            serial(selector).map(|_| ())
        } else {
            usb(selector).map(|_| ())
        }
    }
    /// USB readers of the known makers (MagTek, IDTech) on Linux: vendor-HID readers by
    /// their hidraw node, keyboard wedges by their input nodes. A serial reader is silent
    /// until swiped: it cannot be found, only opened by selector.
    fn list(&self) -> Result<Vec<Listing>, DeviceError> {
        let listing = |backend: &str, kind: &str, f: pos_msr::hidraw::Found| {
            let serial = if f.serial.is_empty() {
                String::new()
            } else {
                format!(":{}", f.serial)
            };
            let info = pos_hal::DeviceInfo::new(
                pos_hal::DeviceKind::Magstripe,
                "msr",
                &format!("{kind} magstripe reader {:04x}:{:04x}", f.vid, f.pid),
                &format!("msr:{backend}:{:04x}:{:04x}{serial}", f.vid, f.pid),
            );
            Listing::new(info, Some("ready".to_string()))
        };
        let mut out: Vec<Listing> = pos_msr::hidraw::known()
            .into_iter()
            .map(|f| listing("hidraw", "vendor-HID", f))
            .collect();
        out.extend(
            pos_msr::evdev::known()
                .into_iter()
                .map(|f| listing("evdev", "keyboard-wedge", f)),
        );
        Ok(out)
    }
    fn open_magstripe(&self, selector: &DeviceSelector) -> Result<DynMagstripeReader, DeviceError> {
        if selector.rest().starts_with("hidraw:") {
            let (_, vid, pid, serial) = usb(selector)?;
            let reader = pos_msr::hidraw::HidrawMsr::open(vid, pid, serial.as_deref())
                .map_err(|e| DeviceError::driver(selector, e))?;
            return Ok(Box::new(Erased(reader)));
        }
        if selector.rest().starts_with("evdev:") {
            let (_, vid, pid, serial) = usb(selector)?;
            let reader = pos_msr::evdev::EvdevMsr::open(vid, pid, serial.as_deref())
                .map_err(|e| DeviceError::driver(selector, e))?;
            return Ok(Box::new(Erased(reader)));
        }
        if !selector.rest().starts_with("serial:") {
            let (format, vid, pid, serial) = usb(selector)?;
            let reader = pos_msr::usb::UsbMsr::open(vid, pid, serial.as_deref(), format)
                .map_err(|e| DeviceError::driver(selector, e))?;
            return Ok(Box::new(Erased(reader)));
        }
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
        assert!(matches!(
            usb(&s("msr:usb:0801:0002")).expect("ok"),
            (pos_msr::usb::UsbFormat::Vendor, 0x0801, 0x0002, None)
        ));
        assert!(matches!(
            usb(&s("msr:wedge:0801:0001:ABC")).expect("ok"),
            (pos_msr::usb::UsbFormat::Wedge, 0x0801, 0x0001, Some(_))
        ));
        assert!(matches!(
            usb(&s("msr:evdev:0801:0001")).expect("ok"),
            (pos_msr::usb::UsbFormat::Wedge, 0x0801, 0x0001, None)
        ));
        assert!(usb(&s("msr:usb:801:2")).is_err());
        assert!(usb(&s("msr:evdev:0801")).is_err());
        assert!(serial(&s("msr:serial:")).is_err());
    }
}
