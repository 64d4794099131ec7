//! A fixed-capacity string, so that device names and reports need no heap.

use core::fmt;

use crate::bytes::{CapacityError, InlineBytes};

/// A UTF-8 string of at most `N` bytes stored inline (an [`InlineBytes`] that holds text).
///
/// ```
/// use pos_hal::FixedStr;
/// let name: FixedStr<16> = FixedStr::new("Virtual PCD 00 00")
///     .unwrap_or_else(|_| FixedStr::truncated("Virtual PCD 00 00"));
/// assert_eq!(name.as_str(), "Virtual PCD 00 0");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FixedStr<const N: usize>(InlineBytes<N>);

impl<const N: usize> FixedStr<N> {
    /// The empty string.
    pub const EMPTY: Self = Self(InlineBytes::EMPTY);

    /// Copies `text`, or fails if it is longer than `N` bytes.
    pub fn new(text: &str) -> Result<Self, CapacityError> {
        InlineBytes::new(text.as_bytes()).map(Self)
    }

    /// Copies as much of `text` as fits, cutting at a character boundary.
    pub fn truncated(text: &str) -> Self {
        let mut end = text.len().min(N);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Self(InlineBytes::truncated(&text.as_bytes()[..end]))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s cut at char boundaries are ever stored.
        core::str::from_utf8(self.0.as_bytes()).unwrap_or_default()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const N: usize> fmt::Debug for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_too_long_and_truncates_at_char_boundary() {
        assert_eq!(
            FixedStr::<3>::new("abcd"),
            Err(CapacityError {
                capacity: 3,
                needed: 4
            })
        );
        // "银" is 3 bytes: cutting at 4 must back off to 3.
        assert_eq!(FixedStr::<4>::truncated("银行").as_str(), "银");
        assert_eq!(FixedStr::<8>::new("ok").map(|s| s.len()), Ok(2));
    }
}
