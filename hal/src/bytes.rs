//! Bytes stored inline with a fixed capacity: the one buffer type behind UIDs, ATS, PIN blocks,
//! tracks, PANs and device names, so that the HAL needs no heap.

use core::fmt;

use zeroize::Zeroize;

/// The data did not fit into an inline buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityError {
    /// The capacity in bytes.
    pub capacity: usize,
    /// The length that was asked for.
    pub needed: usize,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes do not fit into {} bytes",
            self.needed, self.capacity
        )
    }
}

impl core::error::Error for CapacityError {}

/// Up to `N` bytes stored inline; `Debug` shows them as hex.
///
/// Not for secrets on its own: wrap it in [`Secret`](crate::Secret) so it is wiped and redacted.
///
/// ```
/// use pos_hal::InlineBytes;
/// let uid = InlineBytes::<10>::new(&[0x04, 0xA2, 0x3B, 0x7C])?;
/// assert_eq!(uid.as_bytes(), &[0x04, 0xA2, 0x3B, 0x7C]);
/// assert_eq!(format!("{uid:?}"), "04A23B7C");
/// assert!(InlineBytes::<2>::new(&[1, 2, 3]).is_err());
/// # Ok::<(), pos_hal::CapacityError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlineBytes<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> InlineBytes<N> {
    /// No bytes.
    pub const EMPTY: Self = Self {
        bytes: [0; N],
        len: 0,
    };
    /// The capacity.
    pub const CAPACITY: usize = N;

    /// Copies `data`, or fails when it is longer than `N`.
    pub fn new(data: &[u8]) -> Result<Self, CapacityError> {
        let mut out = Self::EMPTY;
        out.extend_from_slice(data)?;
        Ok(out)
    }

    /// Copies the first `N` bytes of `data` at most.
    pub fn truncated(data: &[u8]) -> Self {
        let n = data.len().min(N);
        let mut out = Self::EMPTY;
        out.bytes[..n].copy_from_slice(&data[..n]);
        out.len = n;
        out
    }

    /// Appends `data`; on overflow nothing is appended.
    pub fn extend_from_slice(&mut self, data: &[u8]) -> Result<(), CapacityError> {
        let end = self
            .len
            .checked_add(data.len())
            .filter(|&e| e <= N)
            .ok_or(CapacityError {
                capacity: N,
                needed: self.len.saturating_add(data.len()),
            })?;
        self.bytes[self.len..end].copy_from_slice(data);
        self.len = end;
        Ok(())
    }

    /// Appends one byte.
    pub fn push(&mut self, byte: u8) -> Result<(), CapacityError> {
        self.extend_from_slice(&[byte])
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The bytes, writable in place.
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Drops everything (the old bytes are zeroed).
    pub fn clear(&mut self) {
        self.zeroize();
    }
}

impl<const N: usize> Default for InlineBytes<N> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<const N: usize> Zeroize for InlineBytes<N> {
    fn zeroize(&mut self) {
        self.bytes.zeroize();
        self.len.zeroize();
    }
}

impl<const N: usize> AsRef<[u8]> for InlineBytes<N> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl<const N: usize> fmt::Debug for InlineBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_bytes() {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn holds_what_fits_and_refuses_the_rest(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            match InlineBytes::<16>::new(&data) {
                Ok(b) => prop_assert_eq!(b.as_bytes(), &data[..]),
                Err(e) => {
                    prop_assert!(data.len() > 16);
                    prop_assert_eq!(e, CapacityError { capacity: 16, needed: data.len() });
                }
            }
            let cut = InlineBytes::<16>::truncated(&data);
            prop_assert_eq!(cut.as_bytes(), &data[..data.len().min(16)]);
        }
    }

    #[test]
    fn overflowing_append_leaves_the_buffer_unchanged() {
        let mut b = InlineBytes::<3>::new(&[1, 2]).expect("fits");
        assert!(b.extend_from_slice(&[3, 4]).is_err());
        assert_eq!(b.as_bytes(), &[1, 2]);
        b.clear();
        assert!(b.is_empty());
    }
}
