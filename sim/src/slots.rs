//! The two vpcd slots of `cargo xtask up`, seen from pcscd: insert a card, wait until pcscd
//! reports it, pull it and wait until pcscd noticed. Tests and demos use this instead of
//! sleeping.

use std::ffi::CString;
use std::time::{Duration, Instant};

use pcsc::{Context, ReaderState, Scope, State};

use crate::card::Card;
use crate::vpcd::{Faults, VirtualCard};

pub use pos_sim_stack::{PORTS, READERS};

/// Why a slot did not reach the wanted state.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// pcscd is not reachable or the reader is unknown.
    #[error("pcscd: {0}")]
    Pcsc(#[from] pcsc::Error),
    /// vpcd did not take the card's connection.
    #[error("vpcd on port {port}: {source}")]
    Connect {
        /// The port.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// The state did not come.
    #[error("reader {reader:?} not {wanted} after {waited:?} (state {state})")]
    Timeout {
        /// The reader.
        reader: &'static str,
        /// What we waited for.
        wanted: &'static str,
        /// How long.
        waited: Duration,
        /// The last state seen.
        state: String,
    },
}

/// True when pcscd runs with the vpcd readers.
pub fn stack_available() -> bool {
    Context::establish(Scope::User)
        .and_then(|ctx| ctx.list_readers_owned())
        .map(|names| names.iter().any(|n| n.to_bytes() == READERS[0].as_bytes()))
        .unwrap_or(false)
}

fn state_of(ctx: &Context, slot: usize) -> Result<(State, Vec<u8>), SlotError> {
    let name = CString::new(READERS[slot]).unwrap_or_default();
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    ctx.get_status_change(Duration::ZERO, &mut states)?;
    Ok((states[0].event_state(), states[0].atr().to_vec()))
}

/// Waits until pcscd shows `slot` with a card of this ATR (`Some`) or empty (`None`).
pub fn wait_state(
    slot: usize,
    present_atr: Option<&[u8]>,
    limit: Duration,
) -> Result<(), SlotError> {
    let ctx = Context::establish(Scope::User)?;
    let start = Instant::now();
    loop {
        let (state, atr) = state_of(&ctx, slot)?;
        let done = match present_atr {
            Some(want) => state.contains(State::PRESENT) && atr == want,
            None => state.contains(State::EMPTY),
        };
        if done {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(SlotError::Timeout {
                reader: READERS[slot],
                wanted: if present_atr.is_some() {
                    "present"
                } else {
                    "empty"
                },
                waited: limit,
                state: format!("{state:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Inserts `card` into `slot` once the slot is empty, and waits until pcscd shows it.
///
/// The slot must have been empty for a full pcscd poll period (400 ms) first: a card that
/// arrives right after a card was pulled mid-command is powered *down* by pcscd and then
/// reported as absent for good (pcsc-lite 1.9.9 + vpcd 0.8, seen in the card-pull test).
pub fn insert(slot: usize, card: impl Card, faults: Faults) -> Result<VirtualCard, SlotError> {
    wait_state(slot, None, Duration::from_secs(5))?;
    std::thread::sleep(Duration::from_millis(500));
    let atr = if faults.mute || faults.garbage_atr {
        None
    } else {
        Some(card.atr())
    };
    let port = PORTS[slot];
    let inserted = VirtualCard::insert(port, card, faults)
        .map_err(|source| SlotError::Connect { port, source })?;
    match atr {
        Some(atr) => wait_state(slot, Some(&atr), Duration::from_secs(5))?,
        // pcscd never shows a bad card as PRESENT with its ATR: give it two polls.
        None => std::thread::sleep(Duration::from_millis(900)),
    }
    Ok(inserted)
}

/// Pulls the card and waits until pcscd noticed.
pub fn remove(card: VirtualCard, slot: usize) -> Result<(), SlotError> {
    card.remove();
    wait_state(slot, None, Duration::from_secs(5))
}
