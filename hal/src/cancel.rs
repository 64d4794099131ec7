//! Cancelling a blocking wait from another thread.

use core::sync::atomic::{AtomicBool, Ordering};

/// A flag that another thread sets to cancel a blocking wait (`detect`, `poll`, `read_swipe`…).
///
/// It needs no heap: share it by reference (scoped threads) or inside an `Arc`. Drivers check it
/// at least every 50 ms while they wait and then return an error of kind
/// [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled). Drivers whose OS stack has a native
/// cancel (PC/SC `SCardCancel`) additionally offer that for instant wake-up.
///
/// ```
/// use pos_hal::CancelToken;
/// let token = CancelToken::new();
/// std::thread::scope(|s| {
///     s.spawn(|| token.cancel());
/// });
/// assert!(token.is_cancelled());
/// token.reset();
/// assert!(!token.is_cancelled());
/// ```
#[derive(Debug, Default)]
pub struct CancelToken {
    cancelled: AtomicBool,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub const fn new() -> Self {
        Self {
            cancelled: AtomicBool::new(false),
        }
    }

    /// Requests cancellation of every wait that watches this token.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    /// True once [`cancel`](Self::cancel) was called (until [`reset`](Self::reset)).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Clears the flag so that the token can be reused for the next wait.
    pub fn reset(&self) {
        self.cancelled.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn token_is_send_and_sync_and_crosses_threads() {
        assert_send_sync::<CancelToken>();
        let token = std::sync::Arc::new(CancelToken::new());
        let remote = token.clone();
        std::thread::spawn(move || remote.cancel()).join().ok();
        assert!(token.is_cancelled());
    }
}
