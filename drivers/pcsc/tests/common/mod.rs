//! Shared set-up for the tests that drive the real pcscd + vpcd stack.
//!
//! They need the pcscd that `cargo xtask up` starts. Under `cargo xtask test` (which sets
//! `POS_TEST_STACK=1`) a missing pcscd is a failure; in a plain `cargo test` the tests say
//! they are skipped and why, and pass.

#![allow(dead_code)]

use std::ffi::CString;
use std::time::{Duration, Instant};

use pcsc::{Context, ReaderState, Scope, State};
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::vpcd::{Card, Faults, VirtualCard};

/// Reader names and card ports of the vpcd entry `cargo xtask up` writes.
pub const READERS: [&str; 2] = ["Virtual PCD 00 00", "Virtual PCD 00 01"];
pub const PORTS: [u16; 2] = [35963, 35964];

/// True when the stack is there; false (with a note on stderr) when the test should skip.
pub fn stack() -> bool {
    let required = std::env::var_os("POS_TEST_STACK").is_some();
    let ok = Context::establish(Scope::User)
        .and_then(|ctx| ctx.list_readers_owned())
        .map(|names| names.iter().any(|n| n.to_bytes() == READERS[0].as_bytes()))
        .unwrap_or(false);
    if !ok && required {
        panic!("POS_TEST_STACK is set but pcscd with the vpcd readers is not reachable");
    }
    if !ok {
        eprintln!("SKIPPED: pcscd with vpcd readers not running (start it with `cargo xtask up`)");
    }
    ok
}

pub fn profile(name: &str) -> CardProfile {
    CardProfile::builtin(name).expect("built-in profile")
}

fn state_of(ctx: &Context, slot: usize) -> (State, Vec<u8>) {
    let mut states = [ReaderState::new(CString::new(READERS[slot]).expect("name"), State::UNAWARE)];
    ctx.get_status_change(Duration::ZERO, &mut states).expect("status");
    (states[0].event_state(), states[0].atr().to_vec())
}

/// Waits until pcscd sees the slot as `want` (present with this ATR, or empty).
pub fn wait_state(slot: usize, present_atr: Option<&[u8]>, limit: Duration) {
    let ctx = Context::establish(Scope::User).expect("pcscd");
    let start = Instant::now();
    loop {
        let (state, atr) = state_of(&ctx, slot);
        let done = match present_atr {
            Some(want) => state.contains(State::PRESENT) && atr == want,
            None => state.contains(State::EMPTY),
        };
        if done {
            return;
        }
        assert!(start.elapsed() < limit, "slot {slot} not {present_atr:02X?} after {limit:?}: {state:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Inserts `card` into `slot` once the slot is empty, and waits until pcscd shows it.
///
/// The slot must have been empty for a full pcscd poll period (400 ms) first: a card that
/// arrives right after a card was pulled mid-command is powered *down* by pcscd and then
/// reported as absent for good (pcsc-lite 1.9.9 + vpcd 0.8, seen in the card-pull test).
pub fn insert(slot: usize, card: impl Card, faults: Faults) -> VirtualCard {
    wait_state(slot, None, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    let atr = if faults.mute || faults.garbage_atr { None } else { Some(card.atr()) };
    let inserted = VirtualCard::insert(PORTS[slot], card, faults).expect("vpcd accepts the card");
    match atr {
        Some(atr) => wait_state(slot, Some(&atr), Duration::from_secs(5)),
        None => std::thread::sleep(Duration::from_millis(900)),
    }
    inserted
}

pub fn insert_profile(slot: usize, name: &str, faults: Faults) -> VirtualCard {
    insert(slot, EmvCard::new(profile(name)), faults)
}

/// Pulls the card and waits until pcscd noticed.
pub fn remove(card: VirtualCard, slot: usize) {
    card.remove();
    wait_state(slot, None, Duration::from_secs(5));
}

pub fn select(name: &[u8]) -> Vec<u8> {
    let mut a = vec![0x00, 0xA4, 0x04, 0x00, name.len() as u8];
    a.extend_from_slice(name);
    a.push(0x00);
    a
}
