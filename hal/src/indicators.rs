//! Beeper and the four contactless status lights (EMV Book A / qPBOC).

use crate::error::ErrorType;

/// Beep patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BeepKind {
    /// Key click.
    Key,
    /// Card read successfully (contactless "success" tone).
    Success,
    /// Error / alert tone.
    Alert,
}

/// The four contactless lights, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ContactlessLeds {
    /// Light 1 (blue: field on, ready).
    pub ready: bool,
    /// Light 2 (card being read).
    pub reading: bool,
    /// Light 3 (card read).
    pub read: bool,
    /// Light 4 (done / removal allowed).
    pub done: bool,
}

/// Beeper and lights.
///
/// *Provisional*: no real device implements it yet; it is frozen once two do (embedded-hal's
/// rule).
pub trait Indicators: ErrorType {
    /// Sounds a beep.
    fn beep(&mut self, kind: BeepKind) -> Result<(), Self::Error>;
    /// Sets the contactless lights.
    fn set_contactless_leds(&mut self, leds: ContactlessLeds) -> Result<(), Self::Error>;
}

macro_rules! forward_indicators {
    ($($ty:ty),*) => {$(
        impl<T: Indicators + ?Sized> Indicators for $ty {
            fn beep(&mut self, kind: BeepKind) -> Result<(), Self::Error> {
                T::beep(self, kind)
            }
            fn set_contactless_leds(&mut self, leds: ContactlessLeds) -> Result<(), Self::Error> {
                T::set_contactless_leds(self, leds)
            }
        }
    )*};
}
forward_indicators!(&mut T);
#[cfg(feature = "alloc")]
forward_indicators!(alloc::boxed::Box<T>);

impl ContactlessLeds {
    /// The lights lit: `count` of the four from the left (EMV Book A: 1 = ready … 4 = done).
    pub const fn lit(count: u8) -> Self {
        Self {
            ready: count >= 1,
            reading: count >= 2,
            read: count >= 3,
            done: count >= 4,
        }
    }
}
