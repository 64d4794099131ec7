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

use std::io::Write;
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

/// Writes one MagTek swipe to the gadget (`/dev/hidg0` in the rig): one write, one report.
pub fn swipe_magtek(dev: &Path, t1: &str, t2: &str, t3: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(dev)?
        .write_all(&magtek_report(t1, t2, t3))
}

/// Writes one IDTech swipe to the gadget (`/dev/hidg2` in the rig): one write, one report.
pub fn swipe_idtech(dev: &Path, t1: &str, t2: &str, t3: &str) -> std::io::Result<()> {
    fn some(t: &str) -> Option<&str> {
        (!t.is_empty()).then_some(t)
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(dev)?
        .write_all(&pos_msr::reports::idtech_encode(
            some(t1),
            some(t2),
            some(t3),
        ))
}

/// Types `text` on the wedge gadget (`/dev/hidg1` in the rig).
pub fn swipe_wedge(dev: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(dev)?;
    for r in wedge_reports(text) {
        f.write_all(&r)?;
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
