//! USB magstripe readers through libusb (rusb), on every OS and for readers without a
//! hidraw/evdev node: the HID interface is claimed (the kernel's usbhid detached, so the
//! swipe never types into a console or another window) and re-attached on drop; reports are
//! read from the interrupt IN endpoint with a deadline and a cancel token; an unplugged
//! reader is found again with a fresh libusb context (without udevd an old context never
//! sees a re-plugged device).
//!
//! Formats: a vendor reader's one report per swipe — MagTek (337 bytes) or IDTech (509
//! bytes), told apart by length — or a keyboard wedge's 8-byte key reports.

use std::time::Duration;

use pos_hal::{
    CancelToken, Device, DeviceInfo, DeviceKind, ErrorKind, ErrorType, HealthLevel, HealthReport,
    HealthStatus, MagstripeReader, MsrCaps, Swipe,
};
use pos_io::Deadline;
use rusb::UsbContext;

use crate::reports::{self, IDTECH_REPORT_LEN, WedgeDecoder};

/// How the reader reports a swipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsbFormat {
    /// One vendor report per swipe (MagTek 337 bytes or IDTech 509 bytes).
    Vendor,
    /// A boot keyboard typing the tracks.
    Wedge,
}

/// Why the USB reader failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UsbMsrError {
    /// No device with that VID/PID (and serial).
    #[error("no USB magstripe reader {vid:04x}:{pid:04x} is plugged in")]
    NotFound {
        /// Vendor id.
        vid: u16,
        /// Product id.
        pid: u16,
    },
    /// libusb failed.
    #[error("USB magstripe reader: {0}")]
    Usb(#[from] rusb::Error),
    /// A report of a size no known format has.
    #[error(transparent)]
    Report(#[from] reports::ReportError),
    /// No swipe in time.
    #[error("no card was swiped in time")]
    Timeout,
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl pos_hal::Error for UsbMsrError {
    fn kind(&self) -> ErrorKind {
        match self {
            UsbMsrError::NotFound { .. } => ErrorKind::NoDevice,
            UsbMsrError::Usb(rusb::Error::NoDevice) => ErrorKind::Disconnected,
            UsbMsrError::Usb(rusb::Error::Access) => ErrorKind::PermissionDenied,
            UsbMsrError::Usb(rusb::Error::Busy) => ErrorKind::Busy,
            UsbMsrError::Usb(_) => ErrorKind::Other,
            UsbMsrError::Report(_) => ErrorKind::Protocol,
            UsbMsrError::Timeout => ErrorKind::Timeout,
            UsbMsrError::Cancelled => ErrorKind::Cancelled,
        }
    }
}

struct Claimed {
    handle: rusb::DeviceHandle<rusb::Context>,
    endpoint: u8,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        // With auto-detach, releasing the interface gives it back to usbhid.
        let _ = self.handle.release_interface(0);
    }
}

/// A USB magstripe reader.
pub struct UsbMsr {
    vid: u16,
    pid: u16,
    serial: Option<String>,
    format: UsbFormat,
    claimed: Option<Claimed>,
    selector: String,
}

impl std::fmt::Debug for UsbMsr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbMsr")
            .field("selector", &self.selector)
            .field("claimed", &self.claimed.is_some())
            .finish()
    }
}

fn claim(vid: u16, pid: u16, serial: Option<&str>) -> Result<Claimed, UsbMsrError> {
    // A fresh context every time: an old one never sees a re-plugged device without udevd.
    let context = rusb::Context::new()?;
    for device in context.devices()?.iter() {
        let desc = device.device_descriptor()?;
        if (desc.vendor_id(), desc.product_id()) != (vid, pid) {
            continue;
        }
        let handle = device.open()?;
        if let Some(want) = serial {
            let got = handle
                .read_serial_number_string_ascii(&desc)
                .unwrap_or_default();
            if got != want {
                continue;
            }
        }
        let endpoint = device
            .active_config_descriptor()?
            .interfaces()
            .flat_map(|i| i.descriptors().collect::<Vec<_>>())
            .flat_map(|d| d.endpoint_descriptors().collect::<Vec<_>>())
            .find(|e| {
                e.direction() == rusb::Direction::In
                    && e.transfer_type() == rusb::TransferType::Interrupt
            })
            .map_or(0x81, |e| e.address());
        handle.set_auto_detach_kernel_driver(true)?;
        handle.claim_interface(0)?;
        return Ok(Claimed { handle, endpoint });
    }
    Err(UsbMsrError::NotFound { vid, pid })
}

impl UsbMsr {
    /// Claims the reader `vid:pid` (with this serial number, when given).
    pub fn open(
        vid: u16,
        pid: u16,
        serial: Option<&str>,
        format: UsbFormat,
    ) -> Result<Self, UsbMsrError> {
        let claimed = claim(vid, pid, serial)?;
        let kind = match format {
            UsbFormat::Vendor => "usb",
            UsbFormat::Wedge => "wedge",
        };
        let serial_part = serial.map(|s| format!(":{s}")).unwrap_or_default();
        Ok(Self {
            vid,
            pid,
            serial: serial.map(str::to_string),
            format,
            claimed: Some(claimed),
            selector: format!("msr:{kind}:{vid:04x}:{pid:04x}{serial_part}"),
        })
    }
}

impl ErrorType for UsbMsr {
    type Error = UsbMsrError;
}

impl Device for UsbMsr {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            DeviceKind::Magstripe,
            "msr",
            "USB magstripe reader",
            &self.selector,
        )
    }

    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, UsbMsrError> {
        let present = self.claimed.is_some()
            || claim(self.vid, self.pid, self.serial.as_deref())
                .map(|c| self.claimed = Some(c))
                .is_ok();
        Ok(if present {
            HealthReport::new(level, HealthStatus::Ok, "USB reader claimed")
        } else {
            HealthReport::new(level, HealthStatus::Failed, "USB reader not plugged in")
        })
    }
}

impl MagstripeReader for UsbMsr {
    fn caps(&self) -> MsrCaps {
        MsrCaps::default()
    }

    fn read_swipe(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Swipe, UsbMsrError> {
        let deadline = Deadline::after(timeout);
        let mut wedge = WedgeDecoder::new();
        let mut buf = [0u8; IDTECH_REPORT_LEN];
        loop {
            if cancel.is_cancelled() {
                return Err(UsbMsrError::Cancelled);
            }
            if deadline.expired() {
                return Err(UsbMsrError::Timeout);
            }
            if self.claimed.is_none() {
                // Unplugged earlier: look for it again, a little later.
                match claim(self.vid, self.pid, self.serial.as_deref()) {
                    Ok(c) => self.claimed = Some(c),
                    Err(_) => {
                        std::thread::sleep(deadline.slice(Duration::from_millis(100)));
                        continue;
                    }
                }
            }
            let Some(claimed) = self.claimed.as_ref() else {
                continue;
            };
            // libusb takes a zero timeout as "wait for ever": never pass less than 1 ms.
            let slice = deadline
                .slice(Duration::from_millis(100))
                .max(Duration::from_millis(1));
            let read = match self.format {
                UsbFormat::Vendor => {
                    claimed
                        .handle
                        .read_interrupt(claimed.endpoint, &mut buf, slice)
                }
                UsbFormat::Wedge => {
                    claimed
                        .handle
                        .read_interrupt(claimed.endpoint, &mut buf[..8], slice)
                }
            };
            match read {
                // A zero-length packet carries no report.
                Ok(0) => {}
                Ok(n) => {
                    let swipe = match self.format {
                        UsbFormat::Wedge => wedge.feed(&buf[..n]),
                        UsbFormat::Vendor => Some(reports::vendor_decode(&buf[..n])?),
                    };
                    buf.iter_mut().for_each(|b| *b = 0);
                    if let Some(swipe) = swipe {
                        return Ok(swipe);
                    }
                }
                Err(rusb::Error::Timeout) => {}
                Err(rusb::Error::NoDevice | rusb::Error::Io | rusb::Error::Pipe) => {
                    // Unplugged: drop the handle, find it again on the next turn.
                    self.claimed = None;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}
