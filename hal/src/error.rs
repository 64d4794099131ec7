//! The embedded-hal error pattern: drivers keep rich errors, generic code matches on kinds.

/// What went wrong, in terms generic code (the terminal core) can act on.
///
/// Drivers keep their own detailed error types and map them onto these kinds through
/// [`Error::kind`]. New kinds may be added, so matches need a wildcard arm.
///
/// # The kind table
/// Every driver maps its situations with this one table, so that the core can act on a kind
/// without knowing the driver:
///
/// | situation | kind | what the caller does |
/// |---|---|---|
/// | the wait or exchange ran past its deadline | `Timeout` | retry or give up; the driver has resynchronised |
/// | a [`CancelToken`](crate::CancelToken) fired | `Cancelled` | stop quietly |
/// | the device, or the service in front of it (pcscd), is not there; a selector names a device that is gone | `NoDevice` | check cabling / start the service |
/// | it was there and went away while in use (unplugged, service restarted, TCP peer closed) | `Disconnected` | reopen, then retry |
/// | the card left the field or slot during an operation | `CardRemoved` | ask for the card again |
/// | an operation needs a card and there is none | `NoCard` | prompt for a card |
/// | someone else holds the device (claimed, sharing violation) | `Busy` | wait and retry |
/// | the OS refused access (udev rules, group) | `PermissionDenied` | fix permissions |
/// | the device cannot do this at all | `NotSupported` | use another path |
/// | the caller's request is wrong: bad selector, APDU too long for the reader, bad argument | `InvalidInput` | a bug or bad configuration: do not retry |
/// | the device is there but not ready: printer offline, reader not powered, card not activated | `NotReady` | wait, or tell the operator |
/// | the peer spoke something we could not understand (bad frame, checksum, status) | `Protocol` | resync/reopen; report the device |
/// | the printer is out of paper | `PaperOut` | ask for paper, reprint |
/// | the printer cover is open | `CoverOpen` | ask to close it, reprint |
/// | none of the above | `Other` | log the driver error |
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
    /// The caller asked for something invalid (bad selector, argument out of range).
    InvalidInput,
    /// The device is present but not ready (printer offline, card not activated).
    NotReady,
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
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::NotReady => "device not ready",
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

/// For devices that cannot fail (a recording fake, an always-on clock).
impl Error for core::convert::Infallible {
    fn kind(&self) -> ErrorKind {
        match *self {}
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

#[cfg(feature = "alloc")]
impl<T: ErrorType + ?Sized> ErrorType for alloc::boxed::Box<T> {
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
