//! Deadlines that never overflow.

use std::time::{Duration, Instant};

/// When a blocking operation must give up.
///
/// Built from a timeout with [`Deadline::after`]; a timeout too large to add to the clock
/// (`Duration::MAX`, `u64::MAX` seconds from a command line) means "no deadline" instead of a
/// panic.
///
/// ```
/// use std::time::Duration;
/// use pos_io::Deadline;
/// let never = Deadline::after(Duration::MAX);
/// assert!(!never.expired());
/// assert_eq!(never.remaining(), Duration::MAX);
/// let soon = Deadline::after(Duration::from_millis(20));
/// assert!(soon.slice(Duration::from_millis(50)) <= Duration::from_millis(20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Option<Instant>,
}

impl Deadline {
    /// `timeout` from now; saturates to "never" when the clock cannot represent it.
    pub fn after(timeout: Duration) -> Self {
        Self {
            at: Instant::now().checked_add(timeout),
        }
    }

    /// No deadline.
    pub const fn never() -> Self {
        Self { at: None }
    }

    /// The instant, or `None` for no deadline.
    pub fn instant(&self) -> Option<Instant> {
        self.at
    }

    /// Time left (zero once expired; `Duration::MAX` without a deadline).
    pub fn remaining(&self) -> Duration {
        match self.at {
            Some(at) => at.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        }
    }

    /// True once the deadline has passed.
    pub fn expired(&self) -> bool {
        self.at.is_some_and(|at| Instant::now() >= at)
    }

    /// The next wait slice: time left, but at most `max` (so a cancel token is looked at).
    pub fn slice(&self, max: Duration) -> Duration {
        self.remaining().min(max)
    }

    /// Time left for an OS call that takes 0 as "wait forever" (libusb, `set_read_timeout`
    /// refuses 0): `None` when less than one millisecond is left, so the caller reports a
    /// timeout instead of blocking without end.
    pub fn remaining_nonzero(&self) -> Option<Duration> {
        Some(self.remaining()).filter(|d| *d >= Duration::from_millis(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_timeout_makes_a_deadline_without_panicking(secs in any::<u64>(), nanos in 0u32..1_000_000_000) {
            let timeout = Duration::new(secs, nanos);
            let d = Deadline::after(timeout);
            prop_assert!(d.remaining() <= timeout || d.instant().is_none());
            let _ = d.slice(Duration::from_millis(50));
            let _ = d.remaining_nonzero();
        }
    }

    #[test]
    fn an_elapsed_deadline_has_nothing_left_for_libusb() {
        let d = Deadline::after(Duration::ZERO);
        assert!(d.expired());
        assert_eq!(d.remaining(), Duration::ZERO);
        assert_eq!(d.remaining_nonzero(), None);
    }
}
