//! Device side of the USB rig's magstripe readers: what a swipe looks like on the wire.
//!
//! * MagTek-style vendor HID reader: one 337-byte input report per swipe — 3 decode-status
//!   bytes, 3 track lengths, an encode type, then 3 × 110 bytes of track data (MagTek document
//!   99875206 layout).
//! * Keyboard wedge: a boot keyboard "typing" the tracks, a press report and a release report
//!   per character (US layout).
//!
//! * IDTech-style vendor HID reader: one 509-byte input report per swipe.
//!
//! [`swipe_magtek`], [`swipe_idtech`] and [`swipe_wedge`] write them to the gadget's
//! `/dev/hidgN`, encoded by `pos_msr::reports` — the codec the drivers decode with.

use std::path::Path;
use std::time::Duration;

pub use pos_msr::reports::{MAGTEK_REPORT_LEN, wedge_usage as usage};

/// The 337-byte report of one swipe (the same codec the drivers decode with); empty tracks
/// are reported as absent.
pub fn magtek_report(t1: &str, t2: &str, t3: &str) -> [u8; MAGTEK_REPORT_LEN] {
    pos_msr::reports::magtek_encode(Some(t1), Some(t2), Some(t3))
}

/// Press/release report pairs that type `text`.
pub fn wedge_reports(text: &str) -> Vec<[u8; 8]> {
    pos_msr::reports::wedge_encode(text)
}

/// How long one report may wait for the host to take it: a host that never reads (its driver
/// unbound, the gadget unplugged) gives an error, never a writer stuck for ever.
pub const REPORT_DEADLINE: Duration = Duration::from_secs(15);

/// The gadget node, opened non-blocking: each report is written within
/// [`REPORT_DEADLINE`] or not at all.
struct Gadget(std::fs::File);

impl Gadget {
    fn open(dev: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(dev)
            .map(Gadget)
    }

    fn report(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let deadline = std::time::Instant::now() + REPORT_DEADLINE;
        loop {
            match self.0.write(bytes) {
                Ok(n) if n == bytes.len() => return Ok(()),
                Ok(n) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::WriteZero,
                        format!("the gadget took {n} of {} bytes", bytes.len()),
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the USB host did not take the report",
                ));
            }
            let mut pfd = libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            };
            let ms = left.as_millis().min(100) as libc::c_int;
            // SAFETY: one valid pollfd for the duration of the call.
            unsafe { libc::poll(&mut pfd, 1, ms) };
        }
    }
}

/// Writes one MagTek swipe to the gadget (`/dev/hidg0` in the rig): one write, one report.
pub fn swipe_magtek(dev: &Path, t1: &str, t2: &str, t3: &str) -> std::io::Result<()> {
    Gadget::open(dev)?.report(&magtek_report(t1, t2, t3))
}

/// Writes one IDTech swipe to the gadget (`/dev/hidg2` in the rig): one write, one report.
pub fn swipe_idtech(dev: &Path, t1: &str, t2: &str, t3: &str) -> std::io::Result<()> {
    fn some(t: &str) -> Option<&str> {
        (!t.is_empty()).then_some(t)
    }
    Gadget::open(dev)?.report(&pos_msr::reports::idtech_encode(
        some(t1),
        some(t2),
        some(t3),
    ))
}

/// Types `text` on the wedge gadget (`/dev/hidg1` in the rig).
pub fn swipe_wedge(dev: &Path, text: &str) -> std::io::Result<()> {
    let mut g = Gadget::open(dev)?;
    for r in wedge_reports(text) {
        g.report(&r)?;
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_layout() {
        let r = magtek_report("%B4111^X^25?", ";4111=25?", "");
        assert_eq!(&r[3..6], &[12, 9, 0]);
        assert_eq!(&r[7..19], b"%B4111^X^25?");
        assert_eq!(&r[117..126], b";4111=25?");
        assert_eq!(r.len(), 337);
    }

    #[test]
    fn wedge_types_with_shift_and_release() {
        let r = wedge_reports("%B;\n");
        assert_eq!(r.len(), 8);
        assert_eq!(r[0], [0x02, 0, 0x22, 0, 0, 0, 0, 0]);
        assert_eq!(r[1], [0; 8]);
        assert_eq!(r[2], [0x02, 0, 0x05, 0, 0, 0, 0, 0]);
        assert_eq!(r[4][2], 0x33);
        assert_eq!(r[6][2], 0x28);
    }
}
