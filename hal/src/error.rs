//! The embedded-hal error pattern: drivers keep rich errors, generic code matches on kinds.

/// What went wrong, in terms generic code (the terminal core) can act on.
///
/// Drivers keep their own detailed error types and map them onto these kinds through
/// [`Error::kind`]. New kinds may be added, so matches need a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operation did not complete within its timeout.
    Timeout,
    /// The operation was cancelled through a [`CancelToken`](crate::CancelToken).
    Cancelled,
    /// The device (or its service, e.g. pcscd) is not there.
    NoDevice,
    /// The device or its service went away while in use; a retry may reconnect.
    Disconnected,
    /// The card was removed while it was in use.
    CardRemoved,
    /// No card is present.
    NoCard,
    /// The device is in use by someone else (sharing violation, claimed elsewhere).
    Busy,
    /// The OS refused access (udev rules, group membership).
    PermissionDenied,
    /// The device cannot do this.
    NotSupported,
    /// The peer spoke something we could not understand (malformed frame, bad status).
    Protocol,
    /// The printer is out of paper.
    PaperOut,
    /// The printer cover is open.
    CoverOpen,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A short, lower-case description of the kind.
    pub const fn description(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timed out",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::NoDevice => "no such device",
            ErrorKind::Disconnected => "device disconnected",
            ErrorKind::CardRemoved => "card removed",
            ErrorKind::NoCard => "no card present",
            ErrorKind::Busy => "device busy",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::NotSupported => "not supported",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::PaperOut => "paper out",
            ErrorKind::CoverOpen => "cover open",
            ErrorKind::Other => "other error",
        }
    }
}

impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.description())
    }
}

impl core::error::Error for ErrorKind {}

/// A driver error that can be classified.
///
/// ```
/// use pos_hal::{Error, ErrorKind};
///
/// #[derive(Debug)]
/// enum MyError { Unplugged }
/// impl Error for MyError {
///     fn kind(&self) -> ErrorKind { ErrorKind::Disconnected }
/// }
/// assert_eq!(MyError::Unplugged.kind(), ErrorKind::Disconnected);
/// ```
pub trait Error: core::fmt::Debug {
    /// The generic kind of this error.
    fn kind(&self) -> ErrorKind;
}

impl Error for ErrorKind {
    fn kind(&self) -> ErrorKind {
        *self
    }
}

/// Names the error type of a device trait (embedded-hal's `ErrorType`).
pub trait ErrorType {
    /// The driver's error type.
    type Error: Error;
}

impl<T: ErrorType + ?Sized> ErrorType for &mut T {
    type Error = T::Error;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn kind_of_kind_is_itself_and_displays() {
        assert_eq!(ErrorKind::PaperOut.kind(), ErrorKind::PaperOut);
        assert_eq!(ErrorKind::CardRemoved.to_string(), "card removed");
    }
}
