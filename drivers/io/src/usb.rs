//! USB devices through libusb: enumeration with serial numbers and a claimed bulk pipe.

use std::fmt;
use std::io::{self, ErrorKind};
use std::time::Duration;

use crate::Deadline;
use crate::transport::{Transport, timed_out};

/// A USB device as enumeration sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UsbDevice {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// iSerialNumber, when the device has one and it could be read (needs access rights).
    pub serial: Option<String>,
    /// The interface classes of its active configuration (7 printer, 3 HID…).
    pub classes: Vec<u8>,
}

impl UsbDevice {
    /// The address part of a selector: `usb:VVVV:PPPP[:SERIAL]`.
    pub fn describe(&self) -> String {
        let mut s = format!("usb:{:04x}:{:04x}", self.vid, self.pid);
        if let Some(serial) = &self.serial {
            s = format!("{s}:{serial}");
        }
        s
    }
}

/// The device's iSerialNumber, when it has one and it can be read.
fn serial_number<T: rusb::UsbContext>(
    device: &rusb::Device<T>,
    desc: &rusb::DeviceDescriptor,
) -> Option<String> {
    desc.serial_number_string_index()?;
    let handle = device.open().ok()?;
    handle.read_serial_number_string_ascii(desc).ok()
}

/// Every USB device libusb sees now (a fresh context, so that re-plugged devices show up even
/// without udevd).
pub fn devices() -> Result<Vec<UsbDevice>, rusb::Error> {
    let context = rusb::Context::new()?;
    let mut found = Vec::new();
    for device in rusb::UsbContext::devices(&context)?.iter() {
        let Ok(desc) = device.device_descriptor() else {
            continue;
        };
        let classes = device
            .active_config_descriptor()
            .map(|c| {
                c.interfaces()
                    .flat_map(|i| i.descriptors().map(|a| a.class_code()).collect::<Vec<_>>())
                    .collect()
            })
            .unwrap_or_default();
        found.push(UsbDevice {
            vid: desc.vendor_id(),
            pid: desc.product_id(),
            serial: serial_number(&device, &desc),
            classes,
        });
    }
    Ok(found)
}

/// Which device and interface a [`UsbBulk`] claims.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsbMatch {
    /// Vendor and product id; `None`: any device with an interface of `class`.
    pub ids: Option<(u16, u16)>,
    /// iSerialNumber, to tell identical devices apart.
    pub serial: Option<String>,
    /// Interface class wanted when no ids are given (7 for printers).
    pub class: Option<u8>,
}

struct Claimed {
    handle: rusb::DeviceHandle<rusb::Context>,
    interface: u8,
    out_ep: u8,
    in_ep: Option<u8>,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        // With auto-detach on, releasing the interface gives it back to the kernel driver.
        let _ = self.handle.release_interface(self.interface);
    }
}

/// A claimed interface with a bulk OUT (and maybe bulk IN) endpoint: the kernel driver
/// (usblp, usbhid) is detached while claimed and re-attached on release; OUT is written in
/// chunks with partial writes completed; after the device vanished (unplug) the next call
/// looks for it again with a fresh libusb context.
pub struct UsbBulk {
    wanted: UsbMatch,
    claimed: Option<Claimed>,
    label: String,
}

impl fmt::Debug for UsbBulk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsbBulk")
            .field("device", &self.label)
            .field("claimed", &self.claimed.is_some())
            .finish()
    }
}

const USB_CHUNK: usize = 4096;

fn find_and_claim(wanted: &UsbMatch) -> Result<(Claimed, String), rusb::Error> {
    // A fresh context each time: without udevd (containers, minimal systems) a long-lived
    // libusb context never learns that an unplugged device came back.
    let context = rusb::Context::new()?;
    for device in rusb::UsbContext::devices(&context)?.iter() {
        let desc = device.device_descriptor()?;
        if let Some((vid, pid)) = wanted.ids
            && (desc.vendor_id() != vid || desc.product_id() != pid)
        {
            continue;
        }
        if let Some(want) = &wanted.serial
            && serial_number(&device, &desc).as_deref() != Some(want.as_str())
        {
            continue;
        }
        let Ok(config) = device.active_config_descriptor() else {
            continue;
        };
        for iface in config.interfaces() {
            for alt in iface.descriptors() {
                if wanted.ids.is_none() && wanted.class.is_some_and(|c| alt.class_code() != c) {
                    continue;
                }
                let mut out_ep = None;
                let mut in_ep = None;
                for ep in alt.endpoint_descriptors() {
                    if ep.transfer_type() == rusb::TransferType::Bulk {
                        match ep.direction() {
                            rusb::Direction::Out => out_ep = out_ep.or(Some(ep.address())),
                            rusb::Direction::In => in_ep = in_ep.or(Some(ep.address())),
                        }
                    }
                }
                let Some(out_ep) = out_ep else { continue };
                let handle = device.open()?;
                let _ = handle.set_auto_detach_kernel_driver(true);
                handle.claim_interface(alt.interface_number())?;
                let mut label = format!("usb:{:04x}:{:04x}", desc.vendor_id(), desc.product_id());
                if let Some(want) = &wanted.serial {
                    label = format!("{label}:{want}");
                }
                return Ok((
                    Claimed {
                        handle,
                        interface: alt.interface_number(),
                        out_ep,
                        in_ep,
                    },
                    label,
                ));
            }
        }
    }
    Err(rusb::Error::NotFound)
}

/// libusb errors as I/O errors of the matching kind.
pub fn usb_io(e: rusb::Error) -> io::Error {
    match e {
        rusb::Error::Timeout => timed_out(),
        rusb::Error::NoDevice | rusb::Error::NotFound => {
            io::Error::from(ErrorKind::ConnectionAborted)
        }
        rusb::Error::Access => io::Error::from(ErrorKind::PermissionDenied),
        other => io::Error::other(other),
    }
}

impl UsbBulk {
    /// Finds and claims the first interface that matches.
    pub fn open(wanted: UsbMatch) -> Result<Self, rusb::Error> {
        let (claimed, label) = find_and_claim(&wanted)?;
        Ok(Self {
            wanted,
            claimed: Some(claimed),
            label,
        })
    }

    fn claimed(&mut self) -> io::Result<&mut Claimed> {
        if self.claimed.is_none() {
            let (claimed, label) = find_and_claim(&self.wanted).map_err(usb_io)?;
            self.claimed = Some(claimed);
            self.label = label;
        }
        self.claimed
            .as_mut()
            .ok_or_else(|| io::Error::from(ErrorKind::NotConnected))
    }

    /// A class or vendor control IN request on the claimed interface (`wIndex` high byte =
    /// interface number, as the printer class wants); returns the bytes read.
    pub fn control_in(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<usize> {
        let c = self.claimed()?;
        let index = u16::from(c.interface) << 8;
        c.handle
            .read_control(
                request_type,
                request,
                value,
                index,
                buf,
                timeout.max(Duration::from_millis(1)),
            )
            .map_err(usb_io)
    }

    /// The interface number claimed (for sysfs lookups).
    pub fn interface(&self) -> Option<u8> {
        self.claimed.as_ref().map(|c| c.interface)
    }
}

impl Transport for UsbBulk {
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)> {
        let deadline = Deadline::after(timeout);
        let mut sent = 0;
        while sent < data.len() {
            // libusb takes a 0 ms timeout as "wait forever": under 1 ms left is a timeout.
            let left = deadline.remaining_nonzero().ok_or((sent, timed_out()))?;
            let end = (sent + USB_CHUNK).min(data.len());
            let c = self.claimed().map_err(|e| (sent, e))?;
            // rusb returns Ok(n < len) on a timeout after a partial transfer: keep going.
            match c.handle.write_bulk(c.out_ep, &data[sent..end], left) {
                Ok(n) => sent += n,
                Err(e) => return Err((sent, usb_io(e))),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let c = self.claimed()?;
        let Some(ep) = c.in_ep else { return Ok(0) };
        match c
            .handle
            .read_bulk(ep, buf, timeout.max(Duration::from_millis(1)))
        {
            Ok(n) => Ok(n),
            Err(rusb::Error::Timeout) => Ok(0),
            Err(e) => Err(usb_io(e)),
        }
    }

    fn can_read(&self) -> bool {
        self.claimed.as_ref().is_none_or(|c| c.in_ep.is_some())
    }

    fn reset(&mut self) {
        // Release (the kernel driver comes back); the next call finds and claims it again.
        self.claimed = None;
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}
