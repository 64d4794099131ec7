//! Device side of the USB rig's magstripe readers: what a swipe looks like on the wire.
//!
//! * MagTek-style vendor HID reader: one 337-byte input report per swipe — 3 decode-status
//!   bytes, 3 track lengths, an encode type, then 3 × 110 bytes of track data (MagTek document
//!   99875206 layout).
//! * Keyboard wedge: a boot keyboard "typing" the tracks, a press report and a release report
//!   per character (US layout).
//!
//! [`swipe_magtek`] and [`swipe_wedge`] write them to the gadget's `/dev/hidgN`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Length of the MagTek input report.
pub const MAGTEK_REPORT_LEN: usize = 337;
const TRACK_LEN: usize = 110;

/// The 337-byte report of one swipe; tracks longer than 110 bytes are cut, empty ones are
/// reported as absent (length 0).
pub fn magtek_report(t1: &str, t2: &str, t3: &str) -> [u8; MAGTEK_REPORT_LEN] {
    let mut r = [0u8; MAGTEK_REPORT_LEN];
    for (i, t) in [t1, t2, t3].iter().enumerate() {
        let bytes = &t.as_bytes()[..t.len().min(TRACK_LEN)];
        r[3 + i] = bytes.len() as u8;
        let start = 7 + i * TRACK_LEN;
        r[start..start + bytes.len()].copy_from_slice(bytes);
    }
    r
}

/// HID usage and whether shift is needed, for the characters of card tracks (US layout).
pub fn usage(c: char) -> Option<(u8, bool)> {
    Some(match c {
        'a'..='z' => (0x04 + (c as u8 - b'a'), false),
        'A'..='Z' => (0x04 + (c as u8 - b'A'), true),
        '1'..='9' => (0x1E + (c as u8 - b'1'), false),
        '0' => (0x27, false),
        '\n' => (0x28, false),
        ' ' => (0x2C, false),
        '-' => (0x2D, false),
        '=' => (0x2E, false),
        ';' => (0x33, false),
        '/' => (0x38, false),
        '?' => (0x38, true),
        '%' => (0x22, true),
        '^' => (0x23, true),
        _ => return None,
    })
}

/// Press/release report pairs that type `text`; characters without a usage are skipped.
pub fn wedge_reports(text: &str) -> Vec<[u8; 8]> {
    let mut out = Vec::new();
    for c in text.chars() {
        if let Some((code, shift)) = usage(c) {
            out.push([if shift { 0x02 } else { 0 }, 0, code, 0, 0, 0, 0, 0]);
            out.push([0; 8]);
        }
    }
    out
}

/// Writes one MagTek swipe to the gadget (`/dev/hidg0` in the rig): one write, one report.
pub fn swipe_magtek(dev: &Path, t1: &str, t2: &str, t3: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(dev)?
        .write_all(&magtek_report(t1, t2, t3))
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
