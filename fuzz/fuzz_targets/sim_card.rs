//! The simulated EMV card answers any byte string with at least a status word (T=0 and T=1).
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::vpcd::Card;

fuzz_target!(|data: &[u8]| {
    let Some(mut profile) = CardProfile::builtin("unionpay-debit") else { return };
    profile.t0 = data.first().is_some_and(|b| b & 1 == 1);
    let mut card = EmvCard::new(profile);
    // Several commands per input, so that state (selection, pending GET RESPONSE) is explored.
    for chunk in data.split(|b| *b == 0xFE) {
        assert!(card.transmit(chunk).len() >= 2);
    }
});
