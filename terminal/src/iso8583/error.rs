//! Codec errors: they name the field and the byte offset.

use core::fmt;

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecErrorKind {
    /// The input ends before the element is complete.
    Truncated {
        /// Bytes the element needs.
        needed: usize,
    },
    /// A length prefix or value over the field's maximum.
    TooLong {
        /// Length found or given.
        len: usize,
        /// The field's maximum.
        max: usize,
    },
    /// A fixed-length field given with another length.
    WrongLength {
        /// Length given.
        len: usize,
        /// Required length.
        expected: usize,
    },
    /// A BCD nibble above 9 (or a track character other than `0-9 = D`).
    NotNumeric,
    /// A character outside the field's character set.
    InvalidChar,
    /// The bitmap sets a field the dialect does not define (or bit 1: no secondary bitmap).
    UndefinedField,
    /// The frame's length prefix disagrees with the bytes present.
    FrameLength {
        /// Length declared.
        declared: usize,
        /// Bytes after the prefix.
        actual: usize,
    },
    /// A field that must be present is absent.
    Missing,
    /// Bytes left over after the last field the bitmap declares.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// An MTI that is not 4 decimal digits.
    InvalidMti,
}

/// A codec error: what, in which field (`None` = frame, MTI or bitmap), at which offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecError {
    /// The field number, if the error is inside a field.
    pub field: Option<u8>,
    /// Byte offset into the message (after the frame header) where the element starts.
    pub offset: usize,
    /// What is wrong.
    pub kind: CodecErrorKind,
}

impl CodecError {
    pub(crate) const fn at(field: Option<u8>, offset: usize, kind: CodecErrorKind) -> Self {
        Self {
            field,
            offset,
            kind,
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(n) => write!(f, "field {n} at offset {}: ", self.offset)?,
            None => write!(f, "at offset {}: ", self.offset)?,
        }
        match self.kind {
            CodecErrorKind::Truncated { needed } => {
                write!(f, "truncated, {needed} more bytes needed")
            }
            CodecErrorKind::TooLong { len, max } => {
                write!(f, "length {len} over the maximum {max}")
            }
            CodecErrorKind::WrongLength { len, expected } => {
                write!(f, "length {len}, the field is fixed at {expected}")
            }
            CodecErrorKind::NotNumeric => f.write_str("not numeric (BCD nibble above 9)"),
            CodecErrorKind::InvalidChar => f.write_str("character outside the field's set"),
            CodecErrorKind::UndefinedField => {
                f.write_str("bitmap sets a field the dialect does not define")
            }
            CodecErrorKind::FrameLength { declared, actual } => {
                write!(f, "frame declares {declared} bytes, {actual} present")
            }
            CodecErrorKind::Missing => f.write_str("required field missing"),
            CodecErrorKind::TrailingBytes { count } => {
                write!(f, "{count} bytes after the last field")
            }
            CodecErrorKind::InvalidMti => f.write_str("MTI is not 4 decimal digits"),
        }
    }
}

impl core::error::Error for CodecError {}
