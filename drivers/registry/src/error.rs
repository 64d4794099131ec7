//! The registry's errors and the erased driver error.

use std::fmt;

use pos_hal::ErrorKind;

/// A driver error with its type erased: it keeps the kind and the driver's error as source.
///
/// ```
/// use pos_devices::DynError;
/// use pos_hal::{Error, ErrorKind};
/// let e = DynError::new(ErrorKind::Timeout, std::io::Error::from(std::io::ErrorKind::TimedOut));
/// assert_eq!(e.kind(), ErrorKind::Timeout);
/// assert!(std::error::Error::source(&e).is_some());
/// ```
pub struct DynError {
    kind: ErrorKind,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl DynError {
    /// Wraps `source` with its kind.
    pub fn new(kind: ErrorKind, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            kind,
            source: Box::new(source),
        }
    }

    /// Wraps a driver error, taking the kind from it.
    pub fn from_driver<E>(e: E) -> Self
    where
        E: pos_hal::Error + std::error::Error + Send + Sync + 'static,
    {
        Self::new(e.kind(), e)
    }

    /// The driver's error, to downcast when the driver is known.
    pub fn driver_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }
}

impl fmt::Debug for DynError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynError({:?}: {:?})", self.kind, self.source)
    }
}

impl fmt::Display for DynError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.source, f)
    }
}

impl std::error::Error for DynError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

impl pos_hal::Error for DynError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// Why the registry could not list or open a device. Every message names the selector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The text is not a selector, or not one the driver understands.
    #[error("invalid device selector {selector:?}: {reason}")]
    InvalidSelector {
        /// The selector as given.
        selector: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No driver of that name is built in.
    #[error("unknown driver {driver:?} in selector {selector:?} (built in: {known})")]
    UnknownDriver {
        /// The selector as given.
        selector: String,
        /// The driver name it starts with.
        driver: String,
        /// The drivers this build has.
        known: String,
    },
    /// The driver has no device of this kind (a printer selector where a reader is wanted).
    #[error("{selector} is not a {wanted}")]
    WrongKind {
        /// The selector.
        selector: String,
        /// What was asked for.
        wanted: &'static str,
    },
    /// The driver failed to list or open the device.
    #[error("{selector}: {source}")]
    Driver {
        /// The selector (or driver name, when listing).
        selector: String,
        /// The driver's error.
        #[source]
        source: DynError,
    },
}

impl DeviceError {
    pub(crate) fn invalid(selector: &str, reason: &'static str) -> Self {
        DeviceError::InvalidSelector {
            selector: selector.to_string(),
            reason,
        }
    }

    pub(crate) fn driver<E>(selector: impl fmt::Display, e: E) -> Self
    where
        E: pos_hal::Error + std::error::Error + Send + Sync + 'static,
    {
        DeviceError::Driver {
            selector: selector.to_string(),
            source: DynError::from_driver(e),
        }
    }
}

impl pos_hal::Error for DeviceError {
    fn kind(&self) -> ErrorKind {
        match self {
            DeviceError::InvalidSelector { .. } | DeviceError::UnknownDriver { .. } => {
                ErrorKind::InvalidInput
            }
            DeviceError::WrongKind { .. } => ErrorKind::NotSupported,
            DeviceError::Driver { source, .. } => pos_hal::Error::kind(source),
        }
    }
}
