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
pub trait Indicators: ErrorType {
    /// Sounds a beep.
    fn beep(&mut self, kind: BeepKind) -> Result<(), Self::Error>;
    /// Sets the contactless lights.
    fn set_contactless_leds(&mut self, leds: ContactlessLeds) -> Result<(), Self::Error>;
}
