//! The text a reader delivers for one swipe — `%B…^…^…?;…=…?+…?`, sentinels included —
//! split into its tracks, each with its own status.
//!
//! Readers mark a track they could not read as `%E?`, `;E?` or `+E?`; a track that is simply
//! not on the card is left out. Track 3 starts with `;` (ISO) or `+` (some readers).
//!
//! Readers that pass the longitudinal redundancy check on (the character after the end
//! sentinel) get it checked: a wrong one makes that track misread. An LRC that looks like the
//! next track's start sentinel is taken as the LRC only when no track data follows it.

use pos_hal::{Swipe, Track1, Track2, Track3, TrackFault, TrackRead};

/// The three track texts of a swipe (sentinels kept), `None` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackTexts<'a> {
    /// Track 1 (`%…?`).
    pub track1: Option<&'a str>,
    /// Track 2 (`;…?`).
    pub track2: Option<&'a str>,
    /// Track 3 (`;…?` after track 2, or `+…?`).
    pub track3: Option<&'a str>,
    /// Per track: `Some(ok)` when an LRC character followed the end sentinel.
    pub lrc: [Option<bool>; 3],
}

/// The LRC character of a whole track group (start sentinel to end sentinel): XOR of the
/// characters' data bits — 6 for track 1 (ASCII 0x20–0x5F), 4 for ABA tracks (0x30–0x3F).
/// `None` when a character is outside the track's set.
pub fn lrc(group: &[u8]) -> Option<u8> {
    let (base, mask) = match group.first()? {
        b'%' => (0x20, 0x3F),
        b';' => (0x30, 0x0F),
        _ => return None,
    };
    let mut acc = 0u8;
    for &c in group {
        let v = c.checked_sub(base).filter(|v| *v <= mask)?;
        acc ^= v;
    }
    Some(base + acc)
}

/// What follows the group ending at `end`: `Some(ok)` when it is an LRC character.
fn lrc_after(bytes: &[u8], group: &[u8], end: usize) -> Option<bool> {
    let &c = bytes.get(end)?;
    if group.last() != Some(&b'?') || !c.is_ascii_graphic() {
        return None;
    }
    let expected = lrc(group)?;
    if matches!(c, b'%' | b';' | b'+') {
        let data_follows = bytes
            .get(end + 1)
            .is_some_and(|n| n.is_ascii_alphanumeric());
        return (c == expected && !data_follows).then_some(true);
    }
    Some(c == expected)
}

/// Splits swipe text by its sentinels. Anything outside `start…?` groups (line ends, STX/ETX
/// left by a caller, noise) is ignored; a group without its end sentinel runs to the end.
pub fn split(text: &str) -> TrackTexts<'_> {
    let mut out = TrackTexts::default();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = bytes[i];
        if !matches!(start, b'%' | b';' | b'+') {
            i += 1;
            continue;
        }
        let end = bytes[i + 1..]
            .iter()
            .position(|b| *b == b'?')
            .map_or(bytes.len(), |p| i + 1 + p + 1);
        let group = &text[i..end];
        let lrc = lrc_after(bytes, group.as_bytes(), end);
        let slot = match start {
            b'%' if out.track1.is_none() => Some((&mut out.track1, 0)),
            b';' if out.track2.is_none() => Some((&mut out.track2, 1)),
            b';' | b'+' if out.track3.is_none() => Some((&mut out.track3, 2)),
            _ => None,
        };
        if let Some((track, index)) = slot {
            *track = Some(group);
            out.lrc[index] = lrc;
        }
        i = end + usize::from(lrc.is_some());
    }
    out
}

fn read<T>(
    text: Option<&str>,
    parse: impl Fn(&str) -> Result<T, pos_hal::TrackError>,
) -> TrackRead<T> {
    match text {
        None => TrackRead::Absent,
        Some(t) if t.len() <= 3 && t.as_bytes().get(1) == Some(&b'E') => {
            TrackRead::Failed(TrackFault::Unreadable)
        }
        Some(t) => TrackRead::from_parse(parse(t)),
    }
}

/// The swipe the text describes: each track parsed on its own, so a misread track 1 still
/// leaves a good track 2 usable.
pub fn swipe(text: &str) -> Swipe {
    /// A wrong LRC is a misread, as the reader's own `E` mark is.
    fn checked<T>(lrc: Option<bool>, read: TrackRead<T>) -> TrackRead<T> {
        match lrc {
            Some(false) => TrackRead::Failed(TrackFault::Unreadable),
            _ => read,
        }
    }
    let t = split(text);
    Swipe::clear(
        checked(t.lrc[0], read(t.track1, Track1::parse)),
        checked(t.lrc[1], read(t.track2, Track2::parse)),
        checked(t.lrc[2], read(t.track3, Track3::parse)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T1: &str = "%B6212345678901232^ZHANG/SAN^30121010000000000000?";
    const T2: &str = ";6212345678901232=30121011234567890?";

    #[test]
    fn a_full_swipe_splits_into_its_tracks() {
        let text = format!("{T1}{T2};011234567890123=1230?\r");
        let t = split(&text);
        assert_eq!(t.track1, Some(T1));
        assert_eq!(t.track2, Some(T2));
        assert_eq!(t.track3, Some(";011234567890123=1230?"));
        let s = swipe(&text);
        assert!(s.track1.ok().is_some() && s.track2.ok().is_some());
        assert_eq!(
            s.tracks().pan().expect("pan").to_string(),
            "621234******1232"
        );
    }

    #[test]
    fn a_misread_track_1_with_a_good_track_2_still_gives_the_pan() {
        let s = swipe(&format!("%E?{T2}+E?"));
        assert_eq!(s.track1, TrackRead::Failed(TrackFault::Unreadable));
        assert!(matches!(s.track3, TrackRead::Failed(_)));
        assert!(s.is_usable());
        assert_eq!(s.tracks().pan().expect("pan").last4(), "1232");
    }

    fn with_lrc(track: &str) -> String {
        let lrc = char::from(lrc(track.as_bytes()).expect("in the track's set"));
        format!("{track}{lrc}")
    }

    #[test]
    fn a_right_lrc_is_taken_and_a_wrong_one_makes_the_track_misread() {
        let text = format!("{}{}", with_lrc(T1), with_lrc(T2));
        let t = split(&text);
        assert_eq!((t.track1, t.track2), (Some(T1), Some(T2)));
        assert_eq!(t.lrc, [Some(true), Some(true), None]);
        let s = swipe(&text);
        assert!(s.track1.ok().is_some() && s.track2.ok().is_some());

        let mut bad = with_lrc(T2);
        let last = bad.pop().expect("lrc");
        bad.push(if last == '0' { '1' } else { '0' });
        let s = swipe(&format!("{}{bad}", with_lrc(T1)));
        assert!(s.track1.ok().is_some());
        assert_eq!(s.track2, TrackRead::Failed(TrackFault::Unreadable));
    }

    #[test]
    fn a_start_sentinel_after_a_track_is_the_next_track_unless_it_is_an_lrc_with_nothing_after() {
        // Track 2 straight after track 1, no LRCs: both read.
        let text = format!("{T1}{T2}");
        let t = split(&text);
        assert_eq!((t.track1, t.track2, t.lrc), (Some(T1), Some(T2), [None; 3]));
        // The known LRC of ";1?" is 0x30 ^ (0xB ^ 0x1 ^ 0xF) = '5'.
        assert_eq!(lrc(b";1?"), Some(b'5'));
        assert_eq!(lrc(b"%A?"), Some(0x20 + (0x05 ^ 0x21 ^ 0x1F)));
        assert_eq!(lrc(b";\x01?"), None);
    }

    #[test]
    fn the_chip_card_service_code_is_seen() {
        let s = swipe(";6212345678901232=30122011234567890?");
        assert!(
            s.tracks()
                .service_code()
                .expect("service code")
                .is_chip_card()
        );
    }

    #[test]
    fn debug_of_a_swipe_never_shows_the_track() {
        let text = format!("{:?}", swipe(T2));
        assert!(
            !text.contains("6212345678901232") && !text.contains("1234567890"),
            "{text}"
        );
    }

    proptest! {
        #[test]
        fn any_track_with_its_lrc_reads_as_without(pan in "[0-9]{12,19}", disc in "[0-9]{0,10}") {
            let t2 = format!(";{pan}=3012101{disc}?");
            let plain = swipe(&t2);
            let checked = swipe(&with_lrc(&t2));
            prop_assert_eq!(plain, checked);
        }

        #[test]
        fn any_text_splits_without_panic(text in ".{0,200}") {
            let t = split(&text);
            for part in [t.track1, t.track2, t.track3].into_iter().flatten() {
                prop_assert!(text.contains(part));
            }
            let _ = swipe(&text);
        }
    }
}
