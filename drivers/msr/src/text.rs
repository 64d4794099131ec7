//! The text a reader delivers for one swipe — `%B…^…^…?;…=…?+…?`, sentinels included —
//! split into its tracks, each with its own status.
//!
//! Readers mark a track they could not read as `%E?`, `;E?` or `+E?`; a track that is simply
//! not on the card is left out. Track 3 starts with `;` (ISO) or `+` (some readers).

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
        match start {
            b'%' if out.track1.is_none() => out.track1 = Some(group),
            b';' if out.track2.is_none() => out.track2 = Some(group),
            b';' | b'+' if out.track3.is_none() => out.track3 = Some(group),
            _ => {}
        }
        i = end;
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
    let t = split(text);
    Swipe::clear(
        read(t.track1, Track1::parse),
        read(t.track2, Track2::parse),
        read(t.track3, Track3::parse),
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
        fn any_text_splits_without_panic(text in ".{0,200}") {
            let t = split(&text);
            for part in [t.track1, t.track2, t.track3].into_iter().flatten() {
                prop_assert!(text.contains(part));
            }
            let _ = swipe(&text);
        }
    }
}
