//! Why a kernel step stopped.

use core::fmt;

use pos_hal::tlv::TlvError;
use pos_hal::{ErrorKind, StatusWord};

/// Why the kernel could not go on. Card *answers* the kernel can act on (a declined AC, a
/// failed ODA) are not errors: they are outcomes with the TVR bits set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmvError {
    /// The reader failed (card pulled, reader gone, timeout): the transaction is over.
    Reader(ErrorKind),
    /// The card sent malformed BER-TLV.
    Tlv(TlvError),
    /// A DOL is malformed (truncated entry, or asks for more than a command can carry).
    Dol,
    /// A command was refused with a status word the step cannot continue after.
    Refused {
        /// The command.
        command: &'static str,
        /// The card's status word.
        sw: StatusWord,
    },
    /// The card answered, but without a data object the step needs, or with a malformed one.
    Missing {
        /// The tag.
        tag: u32,
    },
    /// The card's AFL is malformed or names an impossible record range.
    BadAfl,
    /// Neither the PSE nor any configured AID found an application.
    NoApplication,
    /// The card answered a GENERATE AC with more than was asked, or out of order.
    CardOutOfOrder(&'static str),
    /// A step was called in the wrong order (a caller bug).
    Sequence(&'static str),
    /// A value given to the kernel is out of range (amount, DOL data too long).
    InvalidInput(&'static str),
}

impl EmvError {
    /// The HAL kind, for callers that only care about that.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EmvError::Reader(kind) => *kind,
            EmvError::InvalidInput(_) | EmvError::Sequence(_) => ErrorKind::InvalidInput,
            _ => ErrorKind::Protocol,
        }
    }
}

impl fmt::Display for EmvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmvError::Reader(kind) => write!(f, "card reader: {kind}"),
            EmvError::Tlv(e) => write!(f, "card sent malformed TLV: {e}"),
            EmvError::Dol => f.write_str("card sent a malformed data object list"),
            EmvError::Refused { command, sw } => write!(f, "{command} refused by the card ({sw})"),
            EmvError::Missing { tag } => write!(f, "card did not give mandatory data {tag:X}"),
            EmvError::BadAfl => f.write_str("card's application file locator is invalid"),
            EmvError::NoApplication => f.write_str("no supported application on the card"),
            EmvError::CardOutOfOrder(what) => write!(f, "card answered out of order: {what}"),
            EmvError::Sequence(what) => write!(f, "kernel step called out of order: {what}"),
            EmvError::InvalidInput(what) => write!(f, "invalid input: {what}"),
        }
    }
}

impl core::error::Error for EmvError {}

impl From<TlvError> for EmvError {
    fn from(e: TlvError) -> Self {
        EmvError::Tlv(e)
    }
}
