//! USB HID reports of magstripe readers, both directions (the USB rig's gadgets encode with
//! the same code the drivers decode with):
//! - MagTek vendor HID: one 337-byte report per swipe;
//! - IDTech format: 9 header bytes and 500 bytes of track text;
//! - keyboard wedge: 8-byte boot keyboard reports, a press and a release per character.

use pos_hal::{Swipe, Track1, Track2, Track3, TrackFault, TrackRead};

use crate::text;

/// Why a report is not a swipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The report has the wrong size for its format.
    #[error("magstripe report of {0} bytes has the wrong size")]
    Size(usize),
    /// A track length runs past its field.
    #[error("magstripe report track length out of range")]
    Length,
}

/// Length of the MagTek input report.
pub const MAGTEK_REPORT_LEN: usize = 337;
const MAGTEK_TRACK: usize = 110;
/// Length of the IDTech-format input report.
pub const IDTECH_REPORT_LEN: usize = 509;
const IDTECH_DATA: usize = 500;

fn track_from_bytes<T>(
    status: u8,
    data: &[u8],
    parse: impl Fn(&str) -> Result<T, pos_hal::TrackError>,
) -> TrackRead<T> {
    if status & 0x01 != 0 {
        return TrackRead::Failed(TrackFault::Unreadable);
    }
    if data.is_empty() {
        return TrackRead::Absent;
    }
    match core::str::from_utf8(data) {
        Ok(text) => TrackRead::from_parse(parse(text)),
        Err(_) => TrackRead::Failed(TrackFault::Unreadable),
    }
}

/// Decodes a MagTek 337-byte report: 3 decode-status bytes (bit 0 = error), 3 lengths, the
/// encode type, then 3 × 110 bytes of track text with sentinels.
pub fn magtek_decode(report: &[u8]) -> Result<Swipe, ReportError> {
    if report.len() != MAGTEK_REPORT_LEN {
        return Err(ReportError::Size(report.len()));
    }
    let field = |i: usize| -> Result<&[u8], ReportError> {
        let len = usize::from(report[3 + i]);
        if len > MAGTEK_TRACK {
            return Err(ReportError::Length);
        }
        let start = 7 + i * MAGTEK_TRACK;
        Ok(&report[start..start + len])
    };
    Ok(Swipe::clear(
        track_from_bytes(report[0], field(0)?, Track1::parse),
        track_from_bytes(report[1], field(1)?, Track2::parse),
        track_from_bytes(report[2], field(2)?, Track3::parse),
    ))
}

/// The 337-byte report of one swipe; tracks longer than 110 bytes are cut, empty ones are
/// reported as absent (length 0), `None` ones as read errors.
pub fn magtek_encode(
    t1: Option<&str>,
    t2: Option<&str>,
    t3: Option<&str>,
) -> [u8; MAGTEK_REPORT_LEN] {
    let mut r = [0u8; MAGTEK_REPORT_LEN];
    for (i, t) in [t1, t2, t3].iter().enumerate() {
        match t {
            None => r[i] = 0x01,
            Some(t) => {
                let bytes = &t.as_bytes()[..t.len().min(MAGTEK_TRACK)];
                r[3 + i] = bytes.len() as u8;
                let start = 7 + i * MAGTEK_TRACK;
                r[start..start + bytes.len()].copy_from_slice(bytes);
            }
        }
    }
    r
}

/// Decodes an IDTech-format report: 3 decode-status bytes, 3 lengths, the encode type, the
/// total output length (little-endian) and 500 bytes of the tracks' text back to back.
pub fn idtech_decode(report: &[u8]) -> Result<Swipe, ReportError> {
    if report.len() != IDTECH_REPORT_LEN {
        return Err(ReportError::Size(report.len()));
    }
    let total = usize::from(u16::from_le_bytes([report[7], report[8]]));
    if total > IDTECH_DATA {
        return Err(ReportError::Length);
    }
    let data = &report[9..9 + total];
    let Ok(body) = core::str::from_utf8(data) else {
        return Ok(Swipe::clear(
            TrackRead::Failed(TrackFault::Unreadable),
            TrackRead::Failed(TrackFault::Unreadable),
            TrackRead::Failed(TrackFault::Unreadable),
        ));
    };
    let mut swipe = text::swipe(body);
    // The header's status bits win over what the text suggests.
    if report[0] & 0x01 != 0 {
        swipe.track1 = TrackRead::Failed(TrackFault::Unreadable);
    }
    if report[1] & 0x01 != 0 {
        swipe.track2 = TrackRead::Failed(TrackFault::Unreadable);
    }
    if report[2] & 0x01 != 0 {
        swipe.track3 = TrackRead::Failed(TrackFault::Unreadable);
    }
    Ok(swipe)
}

/// An IDTech-format report of these tracks.
pub fn idtech_encode(
    t1: Option<&str>,
    t2: Option<&str>,
    t3: Option<&str>,
) -> [u8; IDTECH_REPORT_LEN] {
    let mut r = [0u8; IDTECH_REPORT_LEN];
    let mut at = 9;
    for (i, t) in [t1, t2, t3].iter().enumerate() {
        match t {
            None => r[i] = 0x01,
            Some(t) => {
                let n = t.len().min(IDTECH_REPORT_LEN - at);
                r[3 + i] = n.min(255) as u8;
                r[at..at + n].copy_from_slice(&t.as_bytes()[..n]);
                at += n;
            }
        }
    }
    let total = (at - 9) as u16;
    r[7..9].copy_from_slice(&total.to_le_bytes());
    r
}

/// Decodes one vendor report by its size: MagTek (337 bytes) or IDTech (509 bytes).
pub fn vendor_decode(report: &[u8]) -> Result<Swipe, ReportError> {
    match report.len() {
        MAGTEK_REPORT_LEN => magtek_decode(report),
        IDTECH_REPORT_LEN => idtech_decode(report),
        other => Err(ReportError::Size(other)),
    }
}

/// HID usage and whether shift is needed, for the characters of card tracks (US layout).
pub fn wedge_usage(c: char) -> Option<(u8, bool)> {
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
        '+' => (0x2E, true),
        _ => return None,
    })
}

fn wedge_char(usage: u8, shift: bool) -> Option<char> {
    Some(match (usage, shift) {
        (0x04..=0x1D, false) => char::from(b'a' + usage - 0x04),
        (0x04..=0x1D, true) => char::from(b'A' + usage - 0x04),
        (0x1E..=0x26, false) => char::from(b'1' + usage - 0x1E),
        (0x27, false) => '0',
        (0x28, _) => '\n',
        (0x2C, _) => ' ',
        (0x2D, false) => '-',
        (0x2E, false) => '=',
        (0x2E, true) => '+',
        (0x33, false) => ';',
        (0x38, false) => '/',
        (0x38, true) => '?',
        (0x22, true) => '%',
        (0x23, true) => '^',
        _ => return None,
    })
}

/// Press/release report pairs that type `text`; characters without a usage are skipped.
pub fn wedge_encode(text: &str) -> Vec<[u8; 8]> {
    let mut out = Vec::new();
    for c in text.chars() {
        if let Some((code, shift)) = wedge_usage(c) {
            out.push([if shift { 0x02 } else { 0 }, 0, code, 0, 0, 0, 0, 0]);
            out.push([0; 8]);
        }
    }
    out
}

/// Turns boot-keyboard reports back into the swipe text. A key counts when it is pressed
/// (absent from the previous report), so repeats and releases add nothing; ErrorRollOver
/// reports are ignored; Enter ends the swipe.
#[derive(Debug, Default, Clone)]
pub struct WedgeDecoder {
    previous: [u8; 6],
    text: String,
}

impl WedgeDecoder {
    /// A decoder between swipes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one report; returns the swipe when Enter ends it.
    pub fn feed(&mut self, report: &[u8]) -> Option<Swipe> {
        let [mods, _, keys @ ..] = report else {
            return None;
        };
        let mut current = [0u8; 6];
        for (d, s) in current.iter_mut().zip(keys) {
            *d = *s;
        }
        if current.iter().all(|k| *k == 0x01) {
            return None;
        }
        let shift = mods & 0x22 != 0;
        let mut done = None;
        for &key in current.iter().filter(|k| **k != 0) {
            if self.previous.contains(&key) {
                continue;
            }
            if let Some(swipe) = wedge_char(key, shift).and_then(|c| self.typed(c)) {
                done = Some(swipe);
            }
        }
        self.previous = current;
        done
    }

    /// One typed character (from any keyboard source, e.g. evdev key events); returns the
    /// swipe when it is Enter.
    pub fn typed(&mut self, c: char) -> Option<Swipe> {
        match c {
            '\n' => {
                let swipe = text::swipe(&self.text);
                self.clear_text();
                Some(swipe)
            }
            c if self.text.len() < 512 => {
                self.text.push(c);
                None
            }
            _ => None,
        }
    }

    /// Forgets a half-typed swipe (wiped).
    pub fn reset(&mut self) {
        self.previous = [0; 6];
        self.clear_text();
    }

    fn clear_text(&mut self) {
        // The text held track data: overwrite before letting it go.
        let len = self.text.len();
        self.text.clear();
        self.text.extend(core::iter::repeat_n('0', len));
        self.text.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T1: &str = "%B6212345678901232^ZHANG/SAN^30121010000000000000?";
    const T2: &str = ";6212345678901232=30121011234567890?";

    #[test]
    fn magtek_reports_round_trip_with_per_track_status() {
        let r = magtek_encode(None, Some(T2), Some(""));
        let s = magtek_decode(&r).expect("decodes");
        assert_eq!(s.track1, TrackRead::Failed(TrackFault::Unreadable));
        assert_eq!(s.track3, TrackRead::Absent);
        assert_eq!(
            s.tracks().pan().expect("pan").to_string(),
            "621234******1232"
        );
        assert_eq!(magtek_decode(&r[..336]).err(), Some(ReportError::Size(336)));
        let mut bad = r;
        bad[4] = 200;
        assert_eq!(magtek_decode(&bad).err(), Some(ReportError::Length));
    }

    #[test]
    fn idtech_reports_round_trip() {
        let r = idtech_encode(Some(T1), Some(T2), None);
        let s = idtech_decode(&r).expect("decodes");
        assert!(s.track1.ok().is_some() && s.track2.ok().is_some());
        assert_eq!(s.track3, TrackRead::Failed(TrackFault::Unreadable));
        let mut bad = r;
        bad[7..9].copy_from_slice(&600u16.to_le_bytes());
        assert_eq!(idtech_decode(&bad).err(), Some(ReportError::Length));
    }

    #[test]
    fn wedge_keystrokes_round_trip_and_repeats_count_once() {
        let mut d = WedgeDecoder::new();
        let mut reports = wedge_encode(&format!("{T1}{T2}\n"));
        // A held key repeats its report; an ErrorRollOver report sneaks in.
        reports.insert(3, reports[2]);
        reports.insert(5, [0, 0, 1, 1, 1, 1, 1, 1]);
        let swipes: Vec<Swipe> = reports.iter().filter_map(|r| d.feed(r)).collect();
        assert_eq!(swipes.len(), 1);
        assert_eq!(swipes[0].tracks().pan().expect("pan").last4(), "1232");
        assert!(swipes[0].track1.ok().is_some());
    }

    proptest! {
        #[test]
        fn any_report_decodes_or_fails_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..520)) {
            let _ = magtek_decode(&bytes);
            let _ = idtech_decode(&bytes);
            let mut d = WedgeDecoder::new();
            for chunk in bytes.chunks(8) {
                let _ = d.feed(chunk);
            }
        }
    }
}
