//! Magnetic stripe readers.

use core::time::Duration;

use crate::bytes::InlineBytes;
use crate::cancel::CancelToken;
use crate::device::Device;
use crate::fixed::FixedStr;
use crate::track::{Track1, Track2, Track3, TrackError, Tracks};

/// What a magstripe reader can read.
///
/// ```
/// use pos_hal::MsrCaps;
/// let caps = MsrCaps::default().with_tracks([false, true, false]);
/// assert!(caps.tracks[1] && !caps.encrypting);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MsrCaps {
    /// Tracks 1, 2, 3 (index 0..3).
    pub tracks: [bool; 3],
    /// Delivers encrypted tracks (MagneSafe-style) with masked clear copies.
    pub encrypting: bool,
}

impl Default for MsrCaps {
    /// Three tracks, clear.
    fn default() -> Self {
        Self {
            tracks: [true; 3],
            encrypting: false,
        }
    }
}

impl MsrCaps {
    /// With the tracks given.
    pub const fn with_tracks(mut self, tracks: [bool; 3]) -> Self {
        self.tracks = tracks;
        self
    }
    /// Whether the reader encrypts.
    pub const fn with_encryption(mut self, yes: bool) -> Self {
        self.encrypting = yes;
        self
    }
}

/// Why one track of a swipe has no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackFault {
    /// The head saw the track but the reader could not decode it (parity, LRC, no end sentinel).
    Unreadable,
    /// The reader decoded it but it is not a valid ISO 7813 track.
    Invalid(TrackError),
}

/// One track of one swipe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackRead<T> {
    /// The card has no data there, or the reader does not read this track.
    Absent,
    /// The track was there but bad; the other tracks are still good.
    Failed(TrackFault),
    /// Read and valid.
    Read(T),
}

impl<T> TrackRead<T> {
    /// The track, when read.
    pub fn ok(&self) -> Option<&T> {
        match self {
            TrackRead::Read(t) => Some(t),
            _ => None,
        }
    }
    /// From a parse result: `Err` becomes [`TrackFault::Invalid`].
    pub fn from_parse(result: Result<T, TrackError>) -> Self {
        match result {
            Ok(t) => TrackRead::Read(t),
            Err(e) => TrackRead::Failed(TrackFault::Invalid(e)),
        }
    }
}

/// What an encrypting reader delivers (MagneSafe / IDTech SRED): a DUKPT key serial number,
/// the ciphertext of each track, and masked clear copies (PAN 6+4) for display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncryptedSwipe {
    /// DUKPT key serial number (10 bytes).
    pub ksn: InlineBytes<10>,
    /// Ciphertext of tracks 1, 2, 3 (empty where absent).
    pub ciphertext: [InlineBytes<128>; 3],
    /// Masked tracks 1, 2, 3 as the reader formats them.
    pub masked: [FixedStr<112>; 3],
}

impl EncryptedSwipe {
    /// From a KSN; add tracks with [`with_track`](Self::with_track).
    pub fn new(ksn: &[u8]) -> Result<Self, crate::CapacityError> {
        Ok(Self {
            ksn: InlineBytes::new(ksn)?,
            ciphertext: [InlineBytes::EMPTY; 3],
            masked: [FixedStr::EMPTY; 3],
        })
    }
    /// Track `index` (0..3) as ciphertext and masked text.
    pub fn with_track(
        mut self,
        index: usize,
        ciphertext: &[u8],
        masked: &str,
    ) -> Result<Self, crate::CapacityError> {
        let capacity = self.ciphertext.len();
        let (Some(c), Some(m)) = (self.ciphertext.get_mut(index), self.masked.get_mut(index))
        else {
            return Err(crate::CapacityError {
                capacity,
                needed: index + 1,
            });
        };
        *c = InlineBytes::new(ciphertext)?;
        *m = FixedStr::new(masked)?;
        Ok(self)
    }
}

/// One swipe: each track with its own status, so that a bad track 1 never throws away a good
/// track 2; plus the encrypted form when the reader encrypts (then the clear tracks are
/// [`TrackRead::Absent`]).
///
/// ```
/// use pos_hal::{Swipe, Track2, TrackFault, TrackRead};
/// let swipe = Swipe::clear(
///     TrackRead::Failed(TrackFault::Unreadable),
///     TrackRead::from_parse(Track2::parse(";6234560000041234=30122011234?")),
///     TrackRead::Absent,
/// );
/// assert!(swipe.is_usable());
/// assert_eq!(swipe.tracks().pan()?.to_string(), "623456******1234");
/// # Ok::<(), pos_hal::TrackError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Swipe {
    /// Track 1.
    pub track1: TrackRead<Track1>,
    /// Track 2.
    pub track2: TrackRead<Track2>,
    /// Track 3.
    pub track3: TrackRead<Track3>,
    /// Encrypted tracks, from an encrypting reader.
    pub encrypted: Option<EncryptedSwipe>,
}

impl Swipe {
    /// A swipe from a reader that delivers clear tracks.
    pub fn clear(
        track1: TrackRead<Track1>,
        track2: TrackRead<Track2>,
        track3: TrackRead<Track3>,
    ) -> Self {
        Self {
            track1,
            track2,
            track3,
            encrypted: None,
        }
    }

    /// A swipe from an encrypting reader.
    pub fn encrypted(encrypted: EncryptedSwipe) -> Self {
        Self {
            track1: TrackRead::Absent,
            track2: TrackRead::Absent,
            track3: TrackRead::Absent,
            encrypted: Some(encrypted),
        }
    }

    /// The good clear tracks.
    pub fn tracks(&self) -> Tracks {
        Tracks {
            track1: self.track1.ok().cloned(),
            track2: self.track2.ok().cloned(),
            track3: self.track3.ok().cloned(),
        }
    }

    /// True when a payment can go on: track 2 or track 1 read, or an encrypted swipe.
    pub fn is_usable(&self) -> bool {
        self.track2.ok().is_some() || self.track1.ok().is_some() || self.encrypted.is_some()
    }
}

impl From<Tracks> for Swipe {
    fn from(t: Tracks) -> Self {
        Self::clear(
            t.track1.map_or(TrackRead::Absent, TrackRead::Read),
            t.track2.map_or(TrackRead::Absent, TrackRead::Read),
            t.track3.map_or(TrackRead::Absent, TrackRead::Read),
        )
    }
}

/// A magnetic stripe reader.
pub trait MagstripeReader: Device {
    /// What it reads.
    fn caps(&self) -> MsrCaps;
    /// Waits for one swipe until `timeout` ([`Timeout`](crate::ErrorKind::Timeout)) or `cancel`
    /// ([`Cancelled`](crate::ErrorKind::Cancelled)). A swipe with bad tracks is still `Ok`: each
    /// track carries its own status. The next call waits for a new swipe.
    fn read_swipe(&mut self, timeout: Duration, cancel: &CancelToken)
    -> Result<Swipe, Self::Error>;
}

macro_rules! forward_msr {
    ($($ty:ty),*) => {$(
        impl<T: MagstripeReader + ?Sized> MagstripeReader for $ty {
            fn caps(&self) -> MsrCaps {
                T::caps(self)
            }
            fn read_swipe(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<Swipe, Self::Error> {
                T::read_swipe(self, timeout, cancel)
            }
        }
    )*};
}
forward_msr!(&mut T);
#[cfg(feature = "alloc")]
forward_msr!(alloc::boxed::Box<T>);
