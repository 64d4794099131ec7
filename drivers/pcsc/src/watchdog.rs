//! A deadline for `SCardTransmit`, which has none of its own.
//!
//! PC/SC transmits block until the reader answers; a hung reader or card (vpcd with an empty
//! answer) blocks the caller for ever, and pcsc-lite holds the context's lock meanwhile, so no
//! other PC/SC call (cancel, disconnect, release) can end it. What does end it is shutting down
//! the context's socket to pcscd: the blocked call returns a communication error. The watchdog
//! is one thread per reader handle, armed before each exchange and disarmed after it (a mutex
//! and a condition variable, no thread per APDU); when a deadline passes while armed it shuts
//! the socket down and notes that it fired. The handle then drops the dead context and
//! establishes a new one on its next call.

use std::os::fd::RawFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Arm {
    until: Option<Instant>,
    socket: Option<RawFd>,
    /// Incremented at every arm, so that a late wake-up never fires a later exchange.
    generation: u64,
    fired: bool,
    stop: bool,
    /// When the thread wakes up next (`None`: only when notified). Arming only wakes it when
    /// the new deadline is earlier, so that steady exchanges cost two uncontended locks and no
    /// thread switch.
    wakes_at: Option<Instant>,
}

type Shared = Arc<(Mutex<Arm>, Condvar)>;

fn lock(shared: &Shared) -> MutexGuard<'_, Arm> {
    shared
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Watchdog {
    shared: Shared,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    pub(crate) fn new() -> std::io::Result<Self> {
        let shared: Shared = Arc::default();
        let remote = shared.clone();
        let thread = std::thread::Builder::new()
            .name("pcsc-watchdog".into())
            .spawn(move || run(&remote))?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Arms for one exchange on `socket` that must end within `timeout` (saturating).
    pub(crate) fn arm(&self, timeout: Duration, socket: RawFd) {
        let now = Instant::now();
        let until = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        let mut a = lock(&self.shared);
        a.until = Some(until);
        a.socket = Some(socket);
        a.generation = a.generation.wrapping_add(1);
        a.fired = false;
        if a.wakes_at.is_none_or(|w| until < w) {
            self.shared.1.notify_all();
        }
    }

    /// Disarms; `true` when the deadline had passed and the socket was shut down.
    pub(crate) fn disarm(&self) -> bool {
        let mut a = lock(&self.shared);
        a.until = None;
        a.socket = None;
        // No wake-up: the thread finds nothing armed when its timer runs out.
        std::mem::take(&mut a.fired)
    }
}

fn run(shared: &Shared) {
    let mut a = lock(shared);
    loop {
        if a.stop {
            return;
        }
        let (Some(until), Some(socket)) = (a.until, a.socket) else {
            a = shared
                .1
                .wait(a)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            continue;
        };
        let generation = a.generation;
        let now = Instant::now();
        if now < until {
            a = shared
                .1
                .wait_timeout(a, until - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
            continue;
        }
        if a.generation == generation && a.until == Some(until) {
            // SAFETY: shutdown on a socket descriptor has no memory effects; if the descriptor
            // was closed meanwhile the call fails harmlessly (the exchange ended: disarmed).
            unsafe {
                libc::shutdown(socket, libc::SHUT_RDWR);
            }
            tracing::warn!("PC/SC transmit ran past its deadline: connection to pcscd shut down");
            a.fired = true;
            a.until = None;
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        lock(&self.shared).stop = true;
        self.shared.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
