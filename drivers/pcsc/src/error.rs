//! The driver's error type and its mapping onto [`pos_hal::ErrorKind`].

use std::time::Duration;

use pos_hal::{ApduError, AtrError, ErrorKind};

/// Everything that can go wrong talking to a card through PC/SC.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PcscError {
    /// pcscd is not running or went away. The next call tries to reconnect.
    #[error("PC/SC service not available (is pcscd running?) during {op}")]
    NoService {
        /// The operation that found out.
        op: &'static str,
    },
    /// No reader matches the selector.
    #[error("no PC/SC reader matches {selector}")]
    ReaderNotFound {
        /// The selector, as text.
        selector: String,
    },
    /// The reader was unplugged (or pcscd lost it).
    #[error("reader {reader:?} is gone")]
    ReaderGone {
        /// The reader name.
        reader: String,
    },
    /// No card in the reader.
    #[error("no card in {reader:?}")]
    NoCard {
        /// The reader name.
        reader: String,
    },
    /// The card was removed while in use.
    #[error("card removed from {reader:?}")]
    CardRemoved {
        /// The reader name.
        reader: String,
    },
    /// A card is present but does not answer to reset.
    #[error("card in {reader:?} is mute (no ATR)")]
    MuteCard {
        /// The reader name.
        reader: String,
    },
    /// `transmit` before `power_on` (or after the connection was lost).
    #[error("card not powered: call power_on() first")]
    NotPowered,
    /// Another application holds the card exclusively.
    #[error("reader {reader:?} is in use by another application")]
    Busy {
        /// The reader name.
        reader: String,
    },
    /// A wait ran out.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// A command got no answer within `ConnectOptions::transmit_timeout`; the connection to
    /// pcscd was cut to end it and is re-established by the next call.
    #[error("the card or reader did not answer within {0:?}")]
    TransmitTimeout(Duration),
    /// A wait was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The card's ATR is malformed.
    #[error("card sent an invalid ATR: {0}")]
    Atr(#[from] AtrError),
    /// The command APDU is invalid.
    #[error("invalid command APDU: {0}")]
    Apdu(#[from] ApduError),
    /// A response without a status word (a card pulled mid-command makes pcscd return 0 bytes).
    #[error("response of {len} byte(s) has no status word; card removed mid-command?")]
    ResponseTooShort {
        /// Bytes received.
        len: usize,
    },
    /// The caller's response buffer is too small.
    #[error("response of {needed} bytes does not fit the {capacity}-byte buffer")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        capacity: usize,
    },
    /// The caller asked for something that cannot be done (poll for no card type).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// The card keeps answering `61xx`.
    #[error("card still answers 61xx after {0} GET RESPONSE commands")]
    GetResponseLoop(usize),
    /// Any other PC/SC failure.
    #[error("PC/SC {op} failed: {source}")]
    Pcsc {
        /// The operation.
        op: &'static str,
        /// The PC/SC error.
        #[source]
        source: pcsc::Error,
    },
}

impl PcscError {
    /// Classifies a raw PC/SC error from `op` on `reader`.
    pub(crate) fn from_pcsc(op: &'static str, reader: &str, e: pcsc::Error) -> Self {
        use pcsc::Error as E;
        let reader = reader.to_string();
        match e {
            E::NoService | E::ServiceStopped | E::InvalidHandle | E::CommError => {
                PcscError::NoService { op }
            }
            E::RemovedCard | E::NotTransacted => PcscError::CardRemoved { reader },
            E::NoSmartcard => PcscError::NoCard { reader },
            E::UnresponsiveCard => PcscError::MuteCard { reader },
            E::SharingViolation => PcscError::Busy { reader },
            E::UnknownReader | E::ReaderUnavailable | E::NoReadersAvailable => {
                PcscError::ReaderGone { reader }
            }
            E::Cancelled => PcscError::Cancelled,
            source => PcscError::Pcsc { op, source },
        }
    }

    /// True when the PC/SC context is no longer usable and must be re-established.
    pub(crate) fn lost_service(&self) -> bool {
        matches!(self, PcscError::NoService { .. })
    }
}

impl pos_hal::Error for PcscError {
    fn kind(&self) -> ErrorKind {
        use pcsc::Error as E;
        match self {
            PcscError::NoService { .. } => ErrorKind::Disconnected,
            PcscError::ReaderNotFound { .. } | PcscError::ReaderGone { .. } => ErrorKind::NoDevice,
            PcscError::NoCard { .. } => ErrorKind::NoCard,
            PcscError::NotPowered => ErrorKind::NotReady,
            PcscError::CardRemoved { .. } | PcscError::ResponseTooShort { .. } => {
                ErrorKind::CardRemoved
            }
            PcscError::Busy { .. } => ErrorKind::Busy,
            PcscError::Timeout(_) | PcscError::TransmitTimeout(_) => ErrorKind::Timeout,
            PcscError::Cancelled => ErrorKind::Cancelled,
            PcscError::MuteCard { .. } | PcscError::Atr(_) | PcscError::GetResponseLoop(_) => {
                ErrorKind::Protocol
            }
            PcscError::Apdu(_)
            | PcscError::BufferTooSmall { .. }
            | PcscError::InvalidArgument(_) => ErrorKind::InvalidInput,
            PcscError::Pcsc { source, .. } => match source {
                E::Timeout => ErrorKind::Timeout,
                E::NoAccess | E::SecurityViolation => ErrorKind::PermissionDenied,
                E::ProtoMismatch
                | E::UnsupportedCard
                | E::CardUnsupported
                | E::UnsupportedFeature => ErrorKind::NotSupported,
                E::InvalidParameter | E::InvalidValue | E::InsufficientBuffer => {
                    ErrorKind::InvalidInput
                }
                E::UnpoweredCard => ErrorKind::NotReady,
                E::ResetCard | E::InvalidAtr => ErrorKind::Protocol,
                _ => ErrorKind::Other,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_hal::Error as _;

    #[test]
    fn pcsc_errors_map_to_kinds() {
        let cases = [
            (pcsc::Error::NoService, ErrorKind::Disconnected),
            (pcsc::Error::ServiceStopped, ErrorKind::Disconnected),
            (pcsc::Error::RemovedCard, ErrorKind::CardRemoved),
            (pcsc::Error::NotTransacted, ErrorKind::CardRemoved),
            (pcsc::Error::NoSmartcard, ErrorKind::NoCard),
            (pcsc::Error::SharingViolation, ErrorKind::Busy),
            (pcsc::Error::UnknownReader, ErrorKind::NoDevice),
            (pcsc::Error::Cancelled, ErrorKind::Cancelled),
            (pcsc::Error::Timeout, ErrorKind::Timeout),
            (pcsc::Error::UnresponsiveCard, ErrorKind::Protocol),
            (pcsc::Error::NoAccess, ErrorKind::PermissionDenied),
            (pcsc::Error::ProtoMismatch, ErrorKind::NotSupported),
        ];
        for (raw, kind) in cases {
            assert_eq!(
                PcscError::from_pcsc("test", "r", raw).kind(),
                kind,
                "{raw:?}"
            );
        }
        assert_eq!(
            PcscError::ResponseTooShort { len: 0 }.kind(),
            ErrorKind::CardRemoved
        );
        assert_eq!(PcscError::NotPowered.kind(), ErrorKind::NotReady);
        assert_eq!(
            PcscError::BufferTooSmall {
                needed: 9,
                capacity: 2
            }
            .kind(),
            ErrorKind::InvalidInput
        );
    }
}
