//! The simulated EMV card answers any byte string with at least a status word (T=0 and T=1).
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::vpcd::Card;

// Personalising signs certificates (slow): once per process, cloned per input.
static CARDS: std::sync::OnceLock<Option<[EmvCard; 2]>> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some(cards) = CARDS.get_or_init(|| {
        let make = |t0| {
            let mut profile = CardProfile::builtin("unionpay-debit")?;
            profile.t0 = t0;
            Some(EmvCard::new(profile))
        };
        Some([make(false)?, make(true)?])
    }) else {
        return;
    };
    let mut card = cards[usize::from(data.first().is_some_and(|b| b & 1 == 1))].clone();
    // Several commands per input, so that state (selection, pending GET RESPONSE) is explored.
    for chunk in data.split(|b| *b == 0xFE) {
        assert!(card.transmit(chunk).len() >= 2);
    }
});
