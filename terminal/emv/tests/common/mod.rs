//! What the kernel scenario suites share: the simulated cards in hand, the test CA, a
//! transaction, and the issuer's side of going online.
#![allow(dead_code)]

use pos_emv::{
    CapkSet, Contact, EmvError, HostAnswer, TerminalConfig, TransactionData, candidates, issuer,
};
use pos_hal::tlv::find;
use pos_hal::{InlineBytes, PinDigits, Secret};
use pos_sim::card::InHand;
use pos_sim::emv::{CardProfile, EmvCard, TEST_CAPK_TOML, TEST_IMK};

pub fn card(name: &str) -> InHand<EmvCard> {
    InHand::new(EmvCard::new(
        CardProfile::builtin(name).expect("built-in profile"),
    ))
}

pub fn capks() -> CapkSet {
    CapkSet::from_toml(TEST_CAPK_TOML).expect("test CAPK file")
}

pub fn txn(amount: u64) -> TransactionData {
    pos_sim::emv::test_purchase(amount)
}

pub fn start<'k>(
    c: &mut InHand<EmvCard>,
    terminal: &'k TerminalConfig,
    keys: &'k CapkSet,
    amount: u64,
) -> Result<Contact<'k>, EmvError> {
    let (list, _) = candidates(c, terminal)?;
    Contact::start(c, terminal, keys, &list[0], &txn(amount))
}

/// The issuer's view: recompute the ARQC from field 55 and answer with an ARPC.
pub fn host_answer(field55: &[u8], pan_digits: &[u8], psn: u8, arc: [u8; 2]) -> HostAnswer {
    let get = |tag| find(field55, tag).ok().flatten().map(|t| t.value.to_vec());
    let mk = issuer::card_master_key(&TEST_IMK, pan_digits, psn);
    let atc: [u8; 2] = get(0x9F36).expect("ATC").try_into().expect("2");
    let input = issuer::ac_input(get).expect("AC data in field 55");
    let arqc = issuer::cryptogram(&mk, atc, &input);
    assert_eq!(
        get(0x9F26).expect("AC"),
        arqc,
        "the ARQC verifies with the issuer key"
    );
    let mut data = issuer::arpc(&mk, atc, arqc, arc).to_vec();
    data.extend_from_slice(&arc);
    HostAnswer::Answered {
        arc,
        issuer_authentication: Some(data),
        scripts: Vec::new(),
    }
}

pub fn digits(pan: &str) -> Vec<u8> {
    pan.bytes().map(|b| b - b'0').collect()
}

pub fn pin(text: &str) -> PinDigits {
    Secret::new(InlineBytes::new(text.as_bytes()).expect("fits"))
}
