//! A PC/SC context that re-establishes itself after pcscd restarts.

use std::collections::BTreeSet;
use std::os::fd::RawFd;
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use pcsc::{Context, Scope};

use crate::PcscError;

/// Our contexts are established one at a time, so that the socket each one opens to pcscd can
/// be told apart from the others'.
static ESTABLISH: Mutex<()> = Mutex::new(());

/// The process's connected UNIX-domain sockets (pcsc-lite talks to pcscd over one per context).
fn unix_sockets() -> BTreeSet<RawFd> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<RawFd>().ok())
        .filter(|&fd| {
            // SAFETY: getpeername only writes into the storage we pass, sized by `len`.
            let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            let rc = unsafe {
                libc::getpeername(fd, (&raw mut addr).cast::<libc::sockaddr>(), &mut len)
            };
            rc == 0 && i32::from(addr.ss_family) == libc::AF_UNIX
        })
        .collect()
}

/// How long pcscd has to answer `SCardEstablishContext`: pcsc-lite waits for its answer
/// without a timeout, so a pcscd that accepts connections but hangs would hang every caller.
pub const ESTABLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// `SCardEstablishContext` within [`ESTABLISH_TIMEOUT`], and the socket it opened to pcscd
/// when it can be told apart. On expiry the socket the attempt waits on is shut down, so the
/// attempt (on its own thread) fails and ends: nothing is left blocked.
pub(crate) fn establish() -> Result<(Context, Option<RawFd>), PcscError> {
    let _one_at_a_time = ESTABLISH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = unix_sockets();
    let (tx, rx) = mpsc::channel();
    let attempt = std::thread::Builder::new()
        .name("pcsc-establish".into())
        .spawn(move || {
            let _ = tx.send(Context::establish(Scope::User));
        })
        .map_err(|_| PcscError::NoService { op: "establish" })?;
    let deadline = Instant::now() + ESTABLISH_TIMEOUT;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(result) => {
                let _ = attempt.join();
                let ctx = result.map_err(|e| PcscError::from_pcsc("establish", "", e))?;
                let new: Vec<RawFd> = unix_sockets().difference(&before).copied().collect();
                let socket = match new.as_slice() {
                    [fd] => Some(*fd),
                    _ => None,
                };
                return Ok((ctx, socket));
            }
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
            Err(_) => break,
        }
    }
    tracing::warn!("pcscd accepted the connection but did not answer: giving up on it");
    for fd in unix_sockets().difference(&before) {
        // SAFETY: shutdown on a socket descriptor this process owns; it stays open (the
        // attempt's pcsc-lite closes it when its read fails).
        unsafe { libc::shutdown(*fd, libc::SHUT_RDWR) };
    }
    if rx.recv_timeout(Duration::from_secs(2)).is_ok() {
        let _ = attempt.join();
    }
    Err(PcscError::NoService {
        op: "establish (pcscd does not answer)",
    })
}

/// Holds the current context; `get` establishes one when there is none.
#[derive(Default)]
pub(crate) struct ContextSlot {
    ctx: Option<Context>,
    /// The context's socket to pcscd, when it could be identified: shutting it down is the one
    /// way to end an `SCardTransmit` that a hung reader or card never answers.
    socket: Option<RawFd>,
}

impl std::fmt::Debug for ContextSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextSlot")
            .field("established", &self.ctx.is_some())
            .finish()
    }
}

impl ContextSlot {
    pub(crate) fn get(&mut self) -> Result<&Context, PcscError> {
        self.get_fresh().map(|(ctx, _)| ctx)
    }

    /// The context, and whether it was established just now (pcscd may have restarted and
    /// renamed its readers since the last one).
    pub(crate) fn get_fresh(&mut self) -> Result<(&Context, bool), PcscError> {
        let fresh = self.ctx.is_none();
        if fresh {
            let (ctx, socket) = establish()?;
            self.socket = socket;
            tracing::debug!(socket = ?self.socket, "PC/SC context established");
            self.ctx = Some(ctx);
        }
        self.ctx
            .as_ref()
            .map(|ctx| (ctx, fresh))
            .ok_or(PcscError::NoService { op: "establish" })
    }

    /// The current context's socket to pcscd, if known.
    pub(crate) fn socket(&self) -> Option<RawFd> {
        self.ctx.as_ref().and(self.socket)
    }

    /// Forgets the context after pcscd went away, so the next call starts afresh.
    pub(crate) fn invalidate(&mut self) {
        self.socket = None;
        if self.ctx.take().is_some() {
            tracing::info!("PC/SC service lost; will re-establish on next use");
        }
    }
}

/// Cancels a pending wait of a reader from another thread (`SCardCancel`).
///
/// It is bound to the reader's current PC/SC context: after a pcscd restart, take a new one.
#[derive(Clone)]
pub struct Canceller {
    pub(crate) ctx: Context,
}

impl std::fmt::Debug for Canceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Canceller")
    }
}

impl Canceller {
    /// Makes the pending `wait_for_card`/`poll` of the reader return `Cancelled` now.
    pub fn cancel(&self) -> Result<(), PcscError> {
        self.ctx
            .cancel()
            .map_err(|e| PcscError::from_pcsc("cancel", "", e))
    }
}
