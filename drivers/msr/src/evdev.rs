//! Linux `evdev` for keyboard-wedge magstripe readers: the reader's input nodes
//! (`/dev/input/eventN`, found by VID/PID and serial in sysfs) are opened and **grabbed**
//! (`EVIOCGRAB`), so the typed tracks reach only this driver — not the console, not the
//! window that has the focus — and the grab ends when the reader is dropped. The kernel's HID
//! driver stays bound; a udev rule granting the nodes is all a user needs. After an unplug
//! the nodes are looked for again.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pos_hal::{
    CancelToken, Device, DeviceInfo, DeviceKind, ErrorKind, ErrorType, HealthLevel, HealthReport,
    HealthStatus, MagstripeReader, MsrCaps, Swipe,
};
use pos_io::Deadline;

use crate::reports::WedgeDecoder;

/// Why the evdev reader failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvdevError {
    /// No input node for that VID/PID.
    #[error(
        "no keyboard-wedge reader {vid:04x}:{pid:04x} on /dev/input (plugged in? evdev loaded? udev rule?)"
    )]
    NotFound {
        /// Vendor id.
        vid: u16,
        /// Product id.
        pid: u16,
    },
    /// A node could not be opened, grabbed or read.
    #[error("keyboard-wedge reader {path}: {source}")]
    Io {
        /// The node.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No swipe in time.
    #[error("no card was swiped in time")]
    Timeout,
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl pos_hal::Error for EvdevError {
    fn kind(&self) -> ErrorKind {
        match self {
            EvdevError::NotFound { .. } => ErrorKind::NoDevice,
            EvdevError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                ErrorKind::PermissionDenied
            }
            EvdevError::Io { source, .. } if source.raw_os_error() == Some(libc::EBUSY) => {
                ErrorKind::Busy
            }
            EvdevError::Io { .. } => ErrorKind::Disconnected,
            EvdevError::Timeout => ErrorKind::Timeout,
            EvdevError::Cancelled => ErrorKind::Cancelled,
        }
    }
}

/// The input nodes of `vid:pid` (serial matched when given), from
/// `/sys/class/input/eventN/device/{id/vendor,id/product,uniq}`.
pub fn find(vid: u16, pid: u16, serial: Option<&str>) -> Vec<PathBuf> {
    find_in(Path::new("/sys/class/input"), vid, pid, serial)
}

fn find_in(class: &Path, vid: u16, pid: u16, serial: Option<&str>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(class) else {
        return Vec::new();
    };
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let hex = |text: String| u16::from_str_radix(text.trim(), 16).ok();
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("event"))
        .filter(|e| {
            let dev = e.path().join("device");
            hex(read(dev.join("id").join("vendor"))) == Some(vid)
                && hex(read(dev.join("id").join("product"))) == Some(pid)
                && serial.is_none_or(|s| read(dev.join("uniq")).trim() == s)
        })
        .map(|e| Path::new("/dev/input").join(e.file_name()))
        .collect();
    out.sort();
    out
}

/// The keyboard wedges of [`KNOWN_VENDORS`](crate::hidraw::KNOWN_VENDORS) with input nodes,
/// once each (a wedge may have several nodes), by node order.
pub fn known() -> Vec<crate::hidraw::Found> {
    known_in(Path::new("/sys/class/input"))
}

fn known_in(class: &Path) -> Vec<crate::hidraw::Found> {
    let Ok(entries) = std::fs::read_dir(class) else {
        return Vec::new();
    };
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let hex = |text: String| u16::from_str_radix(text.trim(), 16).ok();
    let mut nodes: Vec<_> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("event"))
        .collect();
    nodes.sort_by_key(|e| e.file_name());
    let mut out: Vec<crate::hidraw::Found> = Vec::new();
    for e in nodes {
        let dev = e.path().join("device");
        let (Some(vid), Some(pid)) = (
            hex(read(dev.join("id").join("vendor"))),
            hex(read(dev.join("id").join("product"))),
        ) else {
            continue;
        };
        // A keyboard: it reports keys (EV_KEY, bit 1 of the `ev` capability mask).
        // The mask is a hex bitmap of any width (`120013`); EV_KEY is in its lowest word.
        let ev = read(dev.join("capabilities").join("ev"));
        let low = ev.split_whitespace().last().unwrap_or_default();
        let keys = low
            .get(low.len().saturating_sub(8)..)
            .and_then(|w| u32::from_str_radix(w, 16).ok())
            .is_some_and(|ev| ev & 0x02 != 0);
        let found = crate::hidraw::Found {
            vid,
            pid,
            serial: read(dev.join("uniq")).trim().to_string(),
        };
        if crate::hidraw::KNOWN_VENDORS.contains(&vid) && keys && !out.contains(&found) {
            out.push(found);
        }
    }
    out
}

/// `EVIOCGRAB` = `_IOW('E', 0x90, int)`.
const EVIOCGRAB: libc::c_ulong = 0x4004_4590;
const EV_KEY: u16 = 0x01;
const KEY_LEFTSHIFT: u16 = 42;
const KEY_RIGHTSHIFT: u16 = 54;

fn grab(file: &std::fs::File, on: bool) -> std::io::Result<()> {
    // SAFETY: EVIOCGRAB takes an int by value on an evdev descriptor we own.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), EVIOCGRAB as _, libc::c_int::from(on)) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The character a Linux key code types on a US layout, for the characters of card tracks.
pub fn key_char(code: u16, shift: bool) -> Option<char> {
    const ROWS: [(u16, &[u8]); 3] = [(16, b"qwertyuiop"), (30, b"asdfghjkl"), (44, b"zxcvbnm")];
    for (first, row) in ROWS {
        if let Some(&c) = code
            .checked_sub(first)
            .and_then(|i| row.get(usize::from(i)))
        {
            let c = char::from(c);
            return Some(if shift { c.to_ascii_uppercase() } else { c });
        }
    }
    Some(match (code, shift) {
        (2..=10, false) => char::from(b'1' + (code - 2) as u8),
        (2..=10, true) => char::from(b"!@#$%^&*("[usize::from(code - 2)]),
        (11, false) => '0',
        (11, true) => ')',
        (12, false) => '-',
        (12, true) => '_',
        (13, false) => '=',
        (13, true) => '+',
        (28 | 96, _) => '\n',
        (39, false) => ';',
        (39, true) => ':',
        (53, false) => '/',
        (53, true) => '?',
        (57, _) => ' ',
        _ => return None,
    })
}

/// A keyboard-wedge magstripe reader on its grabbed evdev nodes.
#[derive(Debug)]
pub struct EvdevMsr {
    vid: u16,
    pid: u16,
    serial: Option<String>,
    nodes: Vec<(std::fs::File, PathBuf)>,
    decoder: WedgeDecoder,
    shift: bool,
    selector: String,
}

impl EvdevMsr {
    /// Opens and grabs every input node of the reader `vid:pid` (with this serial, when
    /// given).
    pub fn open(vid: u16, pid: u16, serial: Option<&str>) -> Result<Self, EvdevError> {
        let mut reader = Self {
            vid,
            pid,
            serial: serial.map(str::to_string),
            nodes: Vec::new(),
            decoder: WedgeDecoder::new(),
            shift: false,
            selector: format!(
                "msr:evdev:{vid:04x}:{pid:04x}{}",
                serial.map(|s| format!(":{s}")).unwrap_or_default()
            ),
        };
        reader.reopen()?;
        Ok(reader)
    }

    fn reopen(&mut self) -> Result<(), EvdevError> {
        let paths = find(self.vid, self.pid, self.serial.as_deref());
        if paths.is_empty() {
            return Err(EvdevError::NotFound {
                vid: self.vid,
                pid: self.pid,
            });
        }
        let mut nodes = Vec::new();
        for path in paths {
            let io = |source| EvdevError::Io {
                path: path.display().to_string(),
                source,
            };
            let file = std::fs::File::open(&path).map_err(io)?;
            grab(&file, true).map_err(io)?;
            nodes.push((file, path));
        }
        self.nodes = nodes;
        self.shift = false;
        self.decoder.reset();
        Ok(())
    }

    /// Reads what the nodes hold without waiting; `Some` when a swipe ended (Enter).
    fn take_events(&mut self, index: usize) -> Result<Option<Swipe>, EvdevError> {
        const SIZE: usize = std::mem::size_of::<libc::input_event>();
        let mut buf = [0u8; SIZE * 64];
        let (file, path) = &mut self.nodes[index];
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
                self.nodes.clear();
                return Ok(None);
            }
            Err(source) => {
                return Err(EvdevError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let mut swipe = None;
        for raw in buf[..n].chunks_exact(SIZE) {
            // SAFETY: `raw` holds SIZE bytes of a kernel input_event; read_unaligned copies
            // them into a properly aligned value (every bit pattern is a valid input_event).
            let event: libc::input_event = unsafe { std::ptr::read_unaligned(raw.as_ptr().cast()) };
            if event.type_ != EV_KEY {
                continue;
            }
            if matches!(event.code, KEY_LEFTSHIFT | KEY_RIGHTSHIFT) {
                self.shift = event.value != 0;
                continue;
            }
            // 1 = press; releases (0) and auto-repeats (2) type nothing.
            if event.value == 1
                && let Some(s) =
                    key_char(event.code, self.shift).and_then(|c| self.decoder.typed(c))
            {
                swipe = Some(s);
            }
        }
        buf.iter_mut().for_each(|b| *b = 0);
        Ok(swipe)
    }
}

impl Drop for EvdevMsr {
    fn drop(&mut self) {
        for (file, _) in &self.nodes {
            let _ = grab(file, false);
        }
        self.decoder.reset();
    }
}

impl ErrorType for EvdevMsr {
    type Error = EvdevError;
}

impl Device for EvdevMsr {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            DeviceKind::Magstripe,
            "msr",
            "keyboard-wedge magstripe reader (evdev, grabbed)",
            &self.selector,
        )
    }

    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, EvdevError> {
        Ok(if !self.nodes.is_empty() || self.reopen().is_ok() {
            HealthReport::new(level, HealthStatus::Ok, "input nodes grabbed")
        } else {
            HealthReport::new(level, HealthStatus::Failed, "input nodes not found")
        })
    }
}

impl MagstripeReader for EvdevMsr {
    fn caps(&self) -> MsrCaps {
        MsrCaps::default()
    }

    /// Waits for a swipe typed from now on: keystrokes that arrived before the call (a swipe
    /// nobody asked for) are dropped.
    fn read_swipe(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<Swipe, EvdevError> {
        let deadline = Deadline::after(timeout);
        self.drop_pending();
        loop {
            if cancel.is_cancelled() {
                return Err(EvdevError::Cancelled);
            }
            if deadline.expired() {
                return Err(EvdevError::Timeout);
            }
            if self.nodes.is_empty() && self.reopen().is_err() {
                std::thread::sleep(deadline.slice(Duration::from_millis(100)));
                continue;
            }
            let mut fds: Vec<libc::pollfd> = self
                .nodes
                .iter()
                .map(|(f, _)| libc::pollfd {
                    fd: f.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            let ms = deadline
                .slice(Duration::from_millis(100))
                .as_millis()
                .max(1) as libc::c_int;
            // SAFETY: a valid array of pollfds and its length.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if ready <= 0 {
                continue;
            }
            for (i, pfd) in fds.iter().enumerate() {
                if pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                    // Unplugged: look for the nodes again.
                    self.nodes.clear();
                    break;
                }
                if pfd.revents & libc::POLLIN != 0
                    && let Some(swipe) = self.take_events(i)?
                {
                    return Ok(swipe);
                }
                if self.nodes.is_empty() {
                    break;
                }
            }
        }
    }
}

impl EvdevMsr {
    fn drop_pending(&mut self) {
        let mut sink = [0u8; 4096];
        for (file, _) in &mut self.nodes {
            let mut pfd = libc::pollfd {
                fd: file.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; zero timeout.
            while unsafe { libc::poll(&mut pfd, 1, 0) } > 0 && pfd.revents & libc::POLLIN != 0 {
                if file.read(&mut sink).map_or(true, |n| n == 0) {
                    break;
                }
            }
        }
        sink.iter_mut().for_each(|b| *b = 0);
        self.shift = false;
        self.decoder.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_codes_type_the_track_characters_with_shift() {
        let typed: String = [
            (6, true),
            (48, true),
            (7, false),
            (2, false),
            (11, false),
            (39, false),
            (13, false),
            (7, true),
            (53, true),
            (28, false),
        ]
        .iter()
        .filter_map(|&(code, shift)| key_char(code, shift))
        .collect();
        assert_eq!(typed, "%B610;=^?\n");
        assert_eq!(key_char(1, false), None, "Esc types nothing");
    }

    #[test]
    fn nodes_are_found_by_vid_pid_and_serial_in_sysfs() {
        let root = std::env::temp_dir().join(format!("evdev-sysfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (node, vid, pid, uniq) in [
            ("event0", "0001", "0001", ""),
            ("event3", "0801", "0001", "HIL0002"),
            ("event4", "0801", "0001", "HIL0002"),
            ("input7", "0801", "0001", "HIL0002"),
            ("event5", "0801", "0001", "OTHER"),
        ] {
            let dir = root.join(node).join("device");
            std::fs::create_dir_all(dir.join("id")).expect("dir");
            std::fs::write(dir.join("id").join("vendor"), format!("{vid}\n")).expect("vendor");
            std::fs::write(dir.join("id").join("product"), format!("{pid}\n")).expect("product");
            std::fs::write(dir.join("uniq"), format!("{uniq}\n")).expect("uniq");
        }
        assert_eq!(
            find_in(&root, 0x0801, 0x0001, Some("HIL0002")),
            [
                PathBuf::from("/dev/input/event3"),
                PathBuf::from("/dev/input/event4")
            ]
        );
        assert_eq!(find_in(&root, 0x0801, 0x0001, None).len(), 3);
        assert!(find_in(&root, 0x0acd, 0x2010, None).is_empty());
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn known_wedges_are_listed_once_with_their_serial() {
        let root = std::env::temp_dir().join(format!("evdev-known-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (node, vid, ev, uniq) in [
            // A real keyboard's mask is wider than 16 bits.
            ("event2", "0801", "120013", "HIL0002"),
            ("event3", "0801", "10001", "HIL0003"),
            ("event4", "046d", "120013", ""),
            ("event5", "0801", "1", "X"),
        ] {
            let dir = root.join(node).join("device");
            std::fs::create_dir_all(dir.join("id")).expect("dir");
            std::fs::create_dir_all(dir.join("capabilities")).expect("dir");
            std::fs::write(dir.join("id").join("vendor"), vid).expect("vendor");
            std::fs::write(dir.join("id").join("product"), "0001").expect("product");
            std::fs::write(dir.join("capabilities").join("ev"), ev).expect("ev");
            std::fs::write(dir.join("uniq"), uniq).expect("uniq");
        }
        assert_eq!(
            known_in(&root),
            [crate::hidraw::Found {
                vid: 0x0801,
                pid: 0x0001,
                serial: "HIL0002".into()
            }]
        );
        let _ = std::fs::remove_dir_all(root);
    }
}
