//! qPBOC tap scenarios on the simulated cards, in process: limits, CVM from the qualifiers,
//! online and offline outcomes, fDDA, the four lights, a card pulled mid-tap.
// Amounts are written yuan_fen (2000_00 is ¥2,000.00), as the POS shows them.
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::convert::Infallible;

use common::{capks, card, digits, host_answer, txn};
use pos_emv::{ContactlessCvm, ContactlessLimits, EmvError, TapOutcome, TerminalConfig, tap};
use pos_hal::{BeepKind, ContactlessLeds, ErrorType, Indicators};
use pos_sim::card::InHand;
use pos_sim::emv::{CardProfile, EmvCard};

#[derive(Default)]
struct Lights {
    leds: Vec<ContactlessLeds>,
    beeps: Vec<BeepKind>,
}

impl ErrorType for Lights {
    type Error = Infallible;
}

impl Indicators for Lights {
    fn beep(&mut self, kind: BeepKind) -> Result<(), Infallible> {
        self.beeps.push(kind);
        Ok(())
    }
    fn set_contactless_leds(&mut self, leds: ContactlessLeds) -> Result<(), Infallible> {
        self.leds.push(leds);
        Ok(())
    }
}

fn run(
    c: &mut InHand<EmvCard>,
    limits: &ContactlessLimits,
    amount: u64,
) -> (Result<pos_emv::Tap, EmvError>, Lights) {
    let mut lights = Lights::default();
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let result = tap(c, &mut lights, &terminal, limits, &keys, &txn(amount));
    (result, lights)
}

#[test]
fn an_online_tap_under_the_cvm_limit_needs_no_pin_and_its_arqc_verifies() {
    let mut c = card("unionpay-debit");
    let (result, lights) = run(&mut c, &ContactlessLimits::default(), 12_34);
    let tap = result.expect("tap");
    let TapOutcome::Online { cvm, icc_data } = tap.outcome() else {
        panic!("{:?}", tap.outcome());
    };
    assert_eq!(*cvm, ContactlessCvm::None);
    // The issuer recomputes the ARQC from field 55 alone.
    host_answer(icc_data, &digits("6212345678901232"), 1, *b"00");
    assert_eq!(
        tap.pan().map(|p| p.to_string()).as_deref(),
        Some("621234******1232")
    );
    assert!(!c.commands.contains(&0xAE), "qPBOC sends no GENERATE AC");
    assert_eq!(lights.leds.last(), Some(&ContactlessLeds::lit(4)));
    assert_eq!(lights.beeps, [BeepKind::Success]);
}

#[test]
fn above_the_cvm_limit_the_card_qualifiers_ask_for_an_online_pin() {
    let mut c = card("unionpay-debit");
    let (result, _) = run(&mut c, &ContactlessLimits::default(), 2000_00);
    let tap = result.expect("tap");
    assert!(
        matches!(
            tap.outcome(),
            TapOutcome::Online {
                cvm: ContactlessCvm::OnlinePin,
                ..
            }
        ),
        "{:?}",
        tap.outcome()
    );
}

#[test]
fn a_signature_card_above_the_cvm_limit_signs() {
    let mut profile = CardProfile::builtin("unionpay-debit").expect("profile");
    profile.applications[0].ctq = Some(pos_sim::emv::HexBytes(vec![0x40, 0x00]));
    let mut c = InHand::new(EmvCard::new(profile));
    let (result, _) = run(&mut c, &ContactlessLimits::default(), 2000_00);
    assert!(matches!(
        result.expect("tap").outcome(),
        TapOutcome::Online {
            cvm: ContactlessCvm::Signature,
            ..
        }
    ));
}

#[test]
fn above_the_transaction_limit_the_card_must_be_inserted_without_any_command() {
    let mut c = card("unionpay-debit");
    let limits = ContactlessLimits {
        transaction_limit: 100_00,
        ..ContactlessLimits::default()
    };
    let (result, _) = run(&mut c, &limits, 100_01);
    assert_eq!(result.expect("tap").outcome(), &TapOutcome::UseContact);
    assert!(c.commands.is_empty());
}

#[test]
fn under_the_floor_limit_an_ec_card_approves_offline_with_a_valid_fdda() {
    let mut c = card("unionpay-qpboc-offline");
    let limits = ContactlessLimits {
        floor_limit: 500_00,
        ..ContactlessLimits::default()
    };
    let (result, _) = run(&mut c, &limits, 12_34);
    let tap = result.expect("tap");
    assert!(
        matches!(tap.outcome(), TapOutcome::ApprovedOffline { .. }),
        "{:?}",
        tap.outcome()
    );
    assert_eq!(tap.fdda(), Some(Ok(())));
    assert_eq!(tap.offline_balance(), Some(100_00));
}

#[test]
fn an_offline_approval_whose_fdda_does_not_verify_is_declined() {
    let mut profile = CardProfile::builtin("unionpay-qpboc-offline").expect("profile");
    profile.applications[0].corrupt_oda = true;
    let mut c = InHand::new(EmvCard::new(profile));
    let limits = ContactlessLimits {
        floor_limit: 500_00,
        ..ContactlessLimits::default()
    };
    let (result, _) = run(&mut c, &limits, 12_34);
    let tap = result.expect("tap");
    assert_eq!(tap.outcome(), &TapOutcome::Declined);
    assert!(matches!(tap.fdda(), Some(Err(_))));
    assert!(tap.tvr().has(pos_emv::tvr::bit::DDA_FAILED));
}

#[test]
fn over_the_ec_balance_the_card_goes_online_even_under_the_floor_limit() {
    let mut c = card("unionpay-qpboc-offline");
    let limits = ContactlessLimits {
        floor_limit: 500_00,
        ..ContactlessLimits::default()
    };
    let (result, _) = run(&mut c, &limits, 200_00);
    assert!(matches!(
        result.expect("tap").outcome(),
        TapOutcome::Online { .. }
    ));
}

#[test]
fn a_card_pulled_mid_tap_is_a_reader_error_and_the_lights_go_back_to_ready() {
    for n in 0..6 {
        let mut c = card("unionpay-debit").pulled_after(n);
        let (result, lights) = run(&mut c, &ContactlessLimits::default(), 100);
        let err = result.expect_err("pulled");
        assert_eq!(
            err.kind(),
            pos_hal::ErrorKind::CardRemoved,
            "after {n}: {err}"
        );
        assert_eq!(lights.leds.last(), Some(&ContactlessLeds::lit(1)));
        assert_eq!(lights.beeps, [BeepKind::Alert]);
    }
}
