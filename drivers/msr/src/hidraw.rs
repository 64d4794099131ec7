//! Linux `hidraw` for vendor-HID magstripe readers: the kernel's HID driver stays bound (no
//! detach, works with a udev rule granting the node), one report per `read`. The node is found
//! by VID/PID (and serial) in sysfs, and found again after an unplug.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pos_hal::{
    CancelToken, Device, DeviceInfo, DeviceKind, ErrorKind, ErrorType, HealthLevel, HealthReport,
    HealthStatus, MagstripeReader, MsrCaps, Swipe,
};
use pos_io::Deadline;

use crate::reports::{self, IDTECH_REPORT_LEN};

/// Why the hidraw reader failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HidrawError {
    /// No hidraw node for that VID/PID.
    #[error(
        "no hidraw magstripe reader {vid:04x}:{pid:04x} (plugged in? udev rule for /dev/hidraw*?)"
    )]
    NotFound {
        /// Vendor id.
        vid: u16,
        /// Product id.
        pid: u16,
    },
    /// The node could not be opened or read.
    #[error("hidraw magstripe reader {path}: {source}")]
    Io {
        /// The node.
        path: String,
        /// Why.
        source: std::io::Error,
    },
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

impl pos_hal::Error for HidrawError {
    fn kind(&self) -> ErrorKind {
        match self {
            HidrawError::NotFound { .. } => ErrorKind::NoDevice,
            HidrawError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                ErrorKind::PermissionDenied
            }
            HidrawError::Io { .. } => ErrorKind::Disconnected,
            HidrawError::Report(_) => ErrorKind::Protocol,
            HidrawError::Timeout => ErrorKind::Timeout,
            HidrawError::Cancelled => ErrorKind::Cancelled,
        }
    }
}

/// The hidraw nodes of `vid:pid` (serial matched when given), from
/// `/sys/class/hidraw/*/device/uevent` (`HID_ID=0003:0000VVVV:0000PPPP`, `HID_UNIQ=serial`).
pub fn find(vid: u16, pid: u16, serial: Option<&str>) -> Vec<PathBuf> {
    find_in(Path::new("/sys/class/hidraw"), vid, pid, serial)
}

fn find_in(class: &Path, vid: u16, pid: u16, serial: Option<&str>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(class) else {
        return Vec::new();
    };
    let want = format!("{vid:08X}:{pid:08X}");
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let uevent =
                std::fs::read_to_string(e.path().join("device").join("uevent")).unwrap_or_default();
            let id_ok = uevent.lines().any(|l| {
                l.strip_prefix("HID_ID=")
                    .is_some_and(|id| id.to_uppercase().ends_with(&want))
            });
            let serial_ok =
                serial.is_none_or(|s| uevent.lines().any(|l| l == format!("HID_UNIQ={s}")));
            id_ok && serial_ok
        })
        .map(|e| Path::new("/dev").join(e.file_name()))
        .collect();
    out.sort();
    out
}

/// USB vendor ids of magstripe reader makers whose readers are found without being named:
/// MagTek (0801) and IDTech (0acd).
pub const KNOWN_VENDORS: [u16; 2] = [0x0801, 0x0acd];

/// A reader found by [`known`]: VID, PID and serial (empty when the device has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// Serial number (`HID_UNIQ`), possibly empty.
    pub serial: String,
}

/// The vendor-HID readers of [`KNOWN_VENDORS`] with a hidraw node. A keyboard wedge of the
/// same maker has a hidraw node too; it is left out (its report descriptor starts with the
/// Generic Desktop page, a vendor reader's with a vendor-defined page, FF00 and up).
pub fn known() -> Vec<Found> {
    known_in(Path::new("/sys/class/hidraw"))
}

fn known_in(class: &Path) -> Vec<Found> {
    let Ok(entries) = std::fs::read_dir(class) else {
        return Vec::new();
    };
    let mut out: Vec<(std::ffi::OsString, Found)> = entries
        .flatten()
        .filter_map(|e| {
            let device = e.path().join("device");
            let uevent = std::fs::read_to_string(device.join("uevent")).ok()?;
            let id = uevent.lines().find_map(|l| l.strip_prefix("HID_ID="))?;
            let mut parts = id.split(':').skip(1);
            let vid = u16::try_from(u32::from_str_radix(parts.next()?, 16).ok()?).ok()?;
            let pid = u16::try_from(u32::from_str_radix(parts.next()?, 16).ok()?).ok()?;
            let serial = uevent
                .lines()
                .find_map(|l| l.strip_prefix("HID_UNIQ="))
                .unwrap_or_default()
                .to_string();
            let descriptor = std::fs::read(device.join("report_descriptor")).ok()?;
            // Usage Page (2 bytes, tag 06) of FF00 or above: vendor-defined.
            let vendor_page = matches!(descriptor.as_slice(), [0x06, _, 0xFF, ..]);
            (KNOWN_VENDORS.contains(&vid) && vendor_page)
                .then(|| (e.file_name(), Found { vid, pid, serial }))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, f)| f).collect()
}

/// A vendor-HID magstripe reader on a hidraw node.
#[derive(Debug)]
pub struct HidrawMsr {
    vid: u16,
    pid: u16,
    serial: Option<String>,
    file: Option<(std::fs::File, PathBuf)>,
    selector: String,
}

impl HidrawMsr {
    /// Opens the reader `vid:pid` (with this serial, when given).
    pub fn open(vid: u16, pid: u16, serial: Option<&str>) -> Result<Self, HidrawError> {
        let mut reader = Self {
            vid,
            pid,
            serial: serial.map(str::to_string),
            file: None,
            selector: format!(
                "msr:hidraw:{vid:04x}:{pid:04x}{}",
                serial.map(|s| format!(":{s}")).unwrap_or_default()
            ),
        };
        reader.reopen()?;
        Ok(reader)
    }

    fn reopen(&mut self) -> Result<(), HidrawError> {
        let path = find(self.vid, self.pid, self.serial.as_deref())
            .into_iter()
            .next()
            .ok_or(HidrawError::NotFound {
                vid: self.vid,
                pid: self.pid,
            })?;
        let file = std::fs::File::open(&path).map_err(|source| HidrawError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.file = Some((file, path));
        Ok(())
    }
}

impl ErrorType for HidrawMsr {
    type Error = HidrawError;
}

impl Device for HidrawMsr {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            DeviceKind::Magstripe,
            "msr",
            "hidraw magstripe reader",
            &self.selector,
        )
    }

    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, HidrawError> {
        Ok(if self.file.is_some() || self.reopen().is_ok() {
            HealthReport::new(level, HealthStatus::Ok, "hidraw node open")
        } else {
            HealthReport::new(level, HealthStatus::Failed, "hidraw node not found")
        })
    }
}

impl MagstripeReader for HidrawMsr {
    fn caps(&self) -> MsrCaps {
        MsrCaps::default()
    }

    fn read_swipe(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Swipe, HidrawError> {
        let deadline = Deadline::after(timeout);
        let mut buf = [0u8; IDTECH_REPORT_LEN];
        loop {
            if cancel.is_cancelled() {
                return Err(HidrawError::Cancelled);
            }
            if deadline.expired() {
                return Err(HidrawError::Timeout);
            }
            if self.file.is_none() && self.reopen().is_err() {
                std::thread::sleep(deadline.slice(Duration::from_millis(100)));
                continue;
            }
            let Some((file, path)) = self.file.as_mut() else {
                continue;
            };
            let mut pfd = libc::pollfd {
                fd: file.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = deadline
                .slice(Duration::from_millis(100))
                .as_millis()
                .max(1) as libc::c_int;
            // SAFETY: one valid pollfd.
            let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
            if ready <= 0 {
                continue;
            }
            if pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                // Unplugged: look for the node again.
                self.file = None;
                continue;
            }
            let n = match file.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
                    self.file = None;
                    continue;
                }
                Err(source) => {
                    return Err(HidrawError::Io {
                        path: path.display().to_string(),
                        source,
                    });
                }
            };
            let swipe = match n {
                0 => None,
                _ => Some(reports::vendor_decode(&buf[..n])?),
            };
            buf.iter_mut().for_each(|b| *b = 0);
            if let Some(swipe) = swipe {
                return Ok(swipe);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_found_by_vid_pid_and_serial_in_sysfs() {
        let root = std::env::temp_dir().join(format!("hidraw-sysfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (node, uevent) in [
            ("hidraw0", "HID_ID=0003:00000801:00000002\nHID_UNIQ=A123\n"),
            ("hidraw1", "HID_ID=0003:00000801:00000001\nHID_UNIQ=\n"),
            ("hidraw2", "HID_ID=0003:00000ACD:00002010\nHID_UNIQ=B9\n"),
        ] {
            let dir = root.join(node).join("device");
            std::fs::create_dir_all(&dir).expect("dir");
            std::fs::write(dir.join("uevent"), uevent).expect("uevent");
        }
        assert_eq!(
            find_in(&root, 0x0801, 0x0002, None),
            [PathBuf::from("/dev/hidraw0")]
        );
        assert_eq!(
            find_in(&root, 0x0acd, 0x2010, Some("B9")),
            [PathBuf::from("/dev/hidraw2")]
        );
        assert!(find_in(&root, 0x0acd, 0x2010, Some("X")).is_empty());
        assert!(find_in(&root, 0x1234, 0x5678, None).is_empty());
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn known_readers_are_the_vendor_page_nodes_of_known_makers() {
        let root = std::env::temp_dir().join(format!("hidraw-known-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let vendor: &[u8] = &[0x06, 0x00, 0xFF, 0x09, 0x01];
        let keyboard: &[u8] = &[0x05, 0x01, 0x09, 0x06];
        for (node, uevent, descriptor) in [
            (
                "hidraw0",
                "HID_ID=0003:00000801:00000002\nHID_UNIQ=A1\n",
                vendor,
            ),
            (
                "hidraw1",
                "HID_ID=0003:00000801:00000001\nHID_UNIQ=W\n",
                keyboard,
            ),
            (
                "hidraw2",
                "HID_ID=0003:00000ACD:00002010\nHID_UNIQ=\n",
                vendor,
            ),
            (
                "hidraw3",
                "HID_ID=0003:0000046D:0000C52B\nHID_UNIQ=\n",
                vendor,
            ),
        ] {
            let dir = root.join(node).join("device");
            std::fs::create_dir_all(&dir).expect("dir");
            std::fs::write(dir.join("uevent"), uevent).expect("uevent");
            std::fs::write(dir.join("report_descriptor"), descriptor).expect("descriptor");
        }
        let found = known_in(&root);
        assert_eq!(
            found,
            [
                Found {
                    vid: 0x0801,
                    pid: 0x0002,
                    serial: "A1".into()
                },
                Found {
                    vid: 0x0acd,
                    pid: 0x2010,
                    serial: String::new()
                }
            ]
        );
        let _ = std::fs::remove_dir_all(root);
    }
}
