//! One call that waits for a swipe, an insert or a tap (PAX `polling`, Sunmi `checkCard`).

use core::time::Duration;

use crate::atr::Atr;
use crate::cancel::CancelToken;
use crate::error::ErrorType;
use crate::msr::Swipe;
use crate::picc::Target;

/// Which card entry modes to wait for, as bit flags.
///
/// ```
/// use pos_hal::EntryModes;
/// let all = EntryModes::SWIPE | EntryModes::INSERT | EntryModes::TAP;
/// assert_eq!(all, EntryModes::ALL);
/// assert!(all.contains(EntryModes::TAP));
/// assert!(!(EntryModes::SWIPE | EntryModes::INSERT).contains(EntryModes::TAP));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryModes(u8);

impl EntryModes {
    /// Nothing.
    pub const NONE: Self = Self(0);
    /// Magnetic stripe.
    pub const SWIPE: Self = Self(1);
    /// Contact chip.
    pub const INSERT: Self = Self(2);
    /// Contactless.
    pub const TAP: Self = Self(4);
    /// All three.
    pub const ALL: Self = Self(7);
    /// True if every mode in `other` is included.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    /// Without the modes in `other` (e.g. no swipe for a chip card).
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
    /// True when no mode is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl core::ops::BitOr for EntryModes {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// What happened while waiting for a card.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "pos-hal is heap-free, so no Box; one event per card read is moved"
)]
pub enum CardEvent {
    /// A card was swiped (each track with its own status).
    Swiped(Swipe),
    /// A chip card was inserted and powered; its ATR.
    Inserted(Atr),
    /// A contactless card was tapped and activated.
    Tapped(Target),
    /// More than one contactless card is in the field ("present one card only").
    Collision,
    /// Nothing happened before the timeout.
    Timeout,
}

/// The combined card entry the terminal core uses: composed by the platform from an
/// [`IccReader`](crate::IccReader), a [`PiccReader`](crate::PiccReader) and a
/// [`MagstripeReader`](crate::MagstripeReader).
///
/// *Provisional*: no real device implements it yet; it is frozen once two do (embedded-hal's
/// rule).
pub trait CardEntry: ErrorType {
    /// Waits for any of `modes` until `timeout` (→ [`CardEvent::Timeout`]) or `cancel`
    /// (→ error of kind [`Cancelled`](crate::ErrorKind::Cancelled)).
    fn detect(
        &mut self,
        modes: EntryModes,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<CardEvent, Self::Error>;
}

macro_rules! forward_entry {
    ($($ty:ty),*) => {$(
        impl<T: CardEntry + ?Sized> CardEntry for $ty {
            fn detect(&mut self, modes: EntryModes, timeout: Duration, cancel: &CancelToken) -> Result<CardEvent, Self::Error> {
                T::detect(self, modes, timeout, cancel)
            }
        }
    )*};
}
forward_entry!(&mut T);
#[cfg(feature = "alloc")]
forward_entry!(alloc::boxed::Box<T>);
