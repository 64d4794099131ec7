//! Shared set-up for the tests that drive the real pcscd + vpcd stack.
//!
//! They need the pcscd that `cargo xtask up` starts, so they are `#[ignore]`d: a plain
//! `cargo test` reports them as ignored, `cargo xtask test` runs them (and a missing pcscd is
//! a failure there).

#![allow(dead_code)]

use std::time::Duration;

use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::slots;
pub use pos_sim::slots::READERS;
use pos_sim::vpcd::{Card, Faults, VirtualCard};

pub use pos_sim::require_stack;

pub fn profile(name: &str) -> CardProfile {
    CardProfile::builtin(name).expect("built-in profile")
}

pub fn wait_state(slot: usize, present_atr: Option<&[u8]>, limit: Duration) {
    slots::wait_state(slot, present_atr, limit).expect("slot state");
}

pub fn insert(slot: usize, card: impl Card, faults: Faults) -> VirtualCard {
    slots::insert(slot, card, faults).expect("card inserted")
}

pub fn insert_profile(slot: usize, name: &str, faults: Faults) -> VirtualCard {
    insert(slot, EmvCard::new(profile(name)), faults)
}

pub fn remove(card: VirtualCard, slot: usize) {
    slots::remove(card, slot).expect("card removed");
}

pub fn select(name: &[u8]) -> Vec<u8> {
    let mut a = vec![0x00, 0xA4, 0x04, 0x00, name.len() as u8];
    a.extend_from_slice(name);
    a.push(0x00);
    a
}
