//! The one secret type: zeroized on drop, redacted in `Debug`, read only through an explicit call.

use core::fmt;

use zeroize::Zeroize;

/// A value that must not leak: key bytes, clear PIN digits, track data, PIN blocks.
///
/// * dropped → the memory is zeroized (`zeroize` crate, not optimised away);
/// * `Debug` prints `Secret(<redacted>)`; there is no `Display`;
/// * the value is read only through [`expose_secret`](Self::expose_secret), which is easy to
///   find in a review.
///
/// ```
/// use pos_hal::Secret;
/// let key = Secret::new([0x11u8; 16]);
/// assert_eq!(format!("{key:?}"), "Secret(<redacted>)");
/// assert_eq!(key.expose_secret()[0], 0x11);
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Takes ownership of `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret value. Every call site is a place where the secret is used in clear.
    pub fn expose_secret(&self) -> &T {
        &self.0
    }

    /// The secret value, writable (to fill a buffer in place without a clear copy).
    pub fn expose_secret_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> Zeroize for Secret<T> {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn debug_never_shows_the_value_and_zeroize_clears_it() {
        let mut s = Secret::new(*b"123456");
        assert!(!format!("{s:?}").contains("123456"));
        s.zeroize();
        assert_eq!(s.expose_secret(), &[0u8; 6]);
    }
}
