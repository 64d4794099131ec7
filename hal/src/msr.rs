//! Magnetic stripe readers.

use core::time::Duration;

use crate::cancel::CancelToken;
use crate::device::{DeviceInfo, HealthCheck};
use crate::error::ErrorType;
use crate::track::Tracks;

/// What a magstripe reader can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsrCaps {
    /// Tracks 1, 2, 3 (index 0..3).
    pub tracks: [bool; 3],
    /// Delivers encrypted tracks only.
    pub encrypting: bool,
}

/// A magnetic stripe reader.
pub trait MagstripeReader: ErrorType + HealthCheck {
    /// What it reads.
    fn caps(&self) -> MsrCaps;
    /// Identifies the reader.
    fn info(&self) -> DeviceInfo;
    /// Waits for one swipe. Partial or unreadable swipes return an error of kind
    /// [`Protocol`](crate::ErrorKind::Protocol); the next call waits for a new swipe.
    fn read_swipe(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Tracks, Self::Error>;
}
