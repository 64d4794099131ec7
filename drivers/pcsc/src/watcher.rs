//! Reader and card events from `SCardGetStatusChange`, on a thread of its own.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pcsc::{Context, PNP_NOTIFICATION, ReaderState, State};

use crate::PcscError;
use crate::discovery::{CardState, list_names};

/// Something that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A reader appeared (also reported for every reader present at start).
    ReaderAttached(String),
    /// A reader went away.
    ReaderDetached(String),
    /// A card was inserted (or was present at start).
    CardInserted {
        /// Reader name.
        reader: String,
        /// The card's ATR.
        atr: Vec<u8>,
    },
    /// A card was removed.
    CardRemoved {
        /// Reader name.
        reader: String,
    },
    /// pcscd went away; the watcher keeps trying to reconnect.
    ServiceLost,
    /// pcscd is back.
    ServiceRestored,
}

/// Watches every reader and reports [`ReaderEvent`]s. Dropping it stops the thread.
///
/// ```no_run
/// use std::time::Duration;
/// let watcher = pos_pcsc::Watcher::start()?;
/// while let Some(event) = watcher.next_event(Duration::from_secs(30)) {
///     println!("{event:?}");
/// }
/// # Ok::<(), pos_pcsc::PcscError>(())
/// ```
pub struct Watcher {
    events: Receiver<ReaderEvent>,
    stop: Arc<AtomicBool>,
    current: Arc<Mutex<Option<Context>>>,
    thread: Option<JoinHandle<()>>,
}

/// How long one status wait blocks before the thread looks at its stop flag.
const POLL: Duration = Duration::from_millis(250);

struct Tracked {
    has_card: bool,
}

fn run(tx: Sender<ReaderEvent>, stop: Arc<AtomicBool>, current: Arc<Mutex<Option<Context>>>) {
    let mut readers: BTreeMap<CString, Tracked> = BTreeMap::new();
    let mut service_up = true;
    while !stop.load(Ordering::Acquire) {
        let ctx = match crate::context::establish() {
            Ok((ctx, _)) => ctx,
            Err(_) => {
                if service_up {
                    service_up = false;
                    for (name, _) in std::mem::take(&mut readers) {
                        let _ = tx.send(ReaderEvent::ReaderDetached(name.to_string_lossy().into()));
                    }
                    let _ = tx.send(ReaderEvent::ServiceLost);
                }
                std::thread::sleep(POLL);
                continue;
            }
        };
        if !service_up {
            service_up = true;
            let _ = tx.send(ReaderEvent::ServiceRestored);
        }
        if let Ok(mut slot) = current.lock() {
            *slot = Some(ctx.clone());
        }
        let lost = watch(&ctx, &tx, &stop, &mut readers).is_err();
        if lost && !stop.load(Ordering::Acquire) {
            // A persistent error (or a service that fails right after it accepted us) must not
            // spin: wait a poll period before establishing again.
            std::thread::sleep(POLL);
        }
        if lost && service_up {
            service_up = false;
            for (name, _) in std::mem::take(&mut readers) {
                let _ = tx.send(ReaderEvent::ReaderDetached(name.to_string_lossy().into()));
            }
            let _ = tx.send(ReaderEvent::ServiceLost);
        }
    }
}

/// Watches until the service is lost (Err) or the watcher is stopped (Ok).
fn watch(
    ctx: &Context,
    tx: &Sender<ReaderEvent>,
    stop: &AtomicBool,
    readers: &mut BTreeMap<CString, Tracked>,
) -> Result<(), PcscError> {
    let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
    let mut relist = true;
    let mut unknown_in_a_row = 0u32;
    while !stop.load(Ordering::Acquire) {
        if relist {
            relist = false;
            let names = list_names(ctx)?;
            for gone in readers
                .keys()
                .filter(|n| !names.contains(n))
                .cloned()
                .collect::<Vec<_>>()
            {
                readers.remove(&gone);
                let _ = tx.send(ReaderEvent::ReaderDetached(gone.to_string_lossy().into()));
            }
            states.truncate(1);
            for name in names {
                if !readers.contains_key(&name) {
                    let _ = tx.send(ReaderEvent::ReaderAttached(name.to_string_lossy().into()));
                    readers.insert(name.clone(), Tracked { has_card: false });
                }
                states.push(ReaderState::new(name, State::UNAWARE));
            }
        }
        match ctx.get_status_change(POLL, &mut states) {
            Ok(()) => unknown_in_a_row = 0,
            Err(pcsc::Error::Timeout) | Err(pcsc::Error::Cancelled) => continue,
            Err(pcsc::Error::UnknownReader) => {
                // A reader vanished between listing and watching; if it keeps failing, do not
                // spin on it.
                unknown_in_a_row += 1;
                if unknown_in_a_row > 1 {
                    std::thread::sleep(POLL);
                }
                relist = true;
                continue;
            }
            Err(e) => return Err(PcscError::from_pcsc("get_status_change", "", e)),
        }
        for state in states.iter_mut() {
            let event = state.event_state();
            if !event.contains(State::CHANGED) {
                continue;
            }
            let name = state.name().to_owned();
            if name.as_c_str() == PNP_NOTIFICATION()
                || event.intersects(State::UNKNOWN | State::IGNORE)
            {
                relist = true;
            } else if let Some(tracked) = readers.get_mut(&name) {
                let has_card = CardState::from_state(event).has_card();
                if has_card && !tracked.has_card {
                    let atr = state.atr().to_vec();
                    let _ = tx.send(ReaderEvent::CardInserted {
                        reader: name.to_string_lossy().into(),
                        atr,
                    });
                } else if !has_card && tracked.has_card {
                    let _ = tx.send(ReaderEvent::CardRemoved {
                        reader: name.to_string_lossy().into(),
                    });
                }
                tracked.has_card = has_card;
            }
            state.sync_current_state();
        }
    }
    Ok(())
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

impl Watcher {
    /// Starts watching. Events for the readers and cards present now come first.
    pub fn start() -> Result<Self, PcscError> {
        let (tx, events) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let current = Arc::new(Mutex::new(None));
        let (s, c) = (stop.clone(), current.clone());
        let thread = std::thread::Builder::new()
            .name("pcsc-watcher".into())
            .spawn(move || run(tx, s, c))
            .map_err(|_| PcscError::NoService {
                op: "spawn watcher",
            })?;
        Ok(Self {
            events,
            stop,
            current,
            thread: Some(thread),
        })
    }

    /// The next event, or `None` after `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Option<ReaderEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Waits up to `timeout` for an event that satisfies `pred`, dropping the others.
    pub fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&ReaderEvent) -> bool,
    ) -> Option<ReaderEvent> {
        let deadline = pos_io::Deadline::after(timeout);
        loop {
            let event = self.next_event(deadline.remaining())?;
            if pred(&event) {
                return Some(event);
            }
        }
    }

    /// Stops the thread (also done on drop).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Ok(slot) = self.current.lock()
            && let Some(ctx) = slot.as_ref()
        {
            let _ = ctx.cancel();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}
