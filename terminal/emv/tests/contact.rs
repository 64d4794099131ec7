//! Contact kernel scenarios on the simulated cards, in process (no reader stack). Named after
//! what each checks, as certification cases are.
// Amounts are written yuan_fen (2000_00 is ¥2,000.00), as the POS shows them.
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{capks, card, digits, host_answer, pin, start};

/// The PIN pad's random bytes for an enciphered PIN's padding (fixed: a test).
const RANDOM: [u8; 32] = [0x5A; 32];
use pos_emv::contact::ONLINE_TAGS;
use pos_emv::tvr::bit;
use pos_emv::{
    CapkSet, Cryptogram, CvmStep, EmvError, HostAnswer, OdaMethod, OdaResult, TerminalConfig,
    candidates,
};
use pos_hal::tlv::find;
use pos_sim::card::InHand;
use pos_sim::emv::{CardProfile, EmvCard};

#[test]
fn selection_finds_unionpay_through_the_pse_and_prefers_priority() {
    let terminal = TerminalConfig::china_pos();
    let mut c = card("unionpay-debit");
    let (list, method) = candidates(&mut c, &terminal).expect("candidates");
    assert_eq!(method, pos_emv::SelectionMethod::Pse);
    assert_eq!(hex::encode_upper(&list[0].aid), "A000000333010101");
    assert_eq!(list[0].label, "UnionPay Debit");
}

#[test]
fn selection_without_a_pse_tries_the_aid_list_with_partial_match() {
    let terminal = TerminalConfig::china_pos();
    let mut profile = CardProfile::builtin("unionpay-credit").expect("profile");
    profile.pse = false;
    let mut c = InHand::new(EmvCard::new(profile));
    let (list, method) = candidates(&mut c, &terminal).expect("candidates");
    assert_eq!(method, pos_emv::SelectionMethod::AidList);
    assert_eq!(hex::encode_upper(&list[0].aid), "A000000333010102");
}

#[test]
fn a_blocked_application_is_not_a_candidate() {
    let terminal = TerminalConfig::china_pos();
    let mut profile = CardProfile::builtin("unionpay-blocked").expect("profile");
    profile.pse = false;
    let mut c = InHand::new(EmvCard::new(profile));
    assert_eq!(
        candidates(&mut c, &terminal).err(),
        Some(EmvError::NoApplication)
    );
}

#[test]
fn a_blocked_application_listed_in_the_pse_refuses_final_selection() {
    let terminal = TerminalConfig::china_pos();
    let mut c = card("unionpay-blocked");
    let err = start(&mut c, &terminal, &capks(), 100).expect_err("blocked");
    assert!(
        matches!(
            err,
            EmvError::Refused {
                command: "SELECT",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn dda_passes_and_an_online_sale_completes_with_issuer_authentication() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-debit");
    let mut k = start(&mut c, &terminal, &keys, 1234).expect("start");
    assert_eq!(k.oda(), (OdaMethod::Dda, OdaResult::Passed));
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::OnlinePin
    );
    assert_eq!(
        k.online_pin_entered(&mut c, true).expect("pin"),
        CvmStep::Done
    );
    assert_eq!(k.cvm_results(), [0x42, 0x03, 0x00]);
    assert!(k.tvr().has(bit::ONLINE_PIN_ENTERED));
    assert_eq!(
        k.first_generate_ac(&mut c).expect("1st AC"),
        Cryptogram::Arqc
    );
    let field55 = k.icc_data(ONLINE_TAGS);
    let answer = host_answer(&field55, &digits("6212345678901232"), 1, *b"00");
    let done = k.complete(&mut c, &answer).expect("completion");
    assert!(done.approved && !done.reverse, "{done:?}");
    assert!(!k.tvr().has(bit::ISSUER_AUTH_FAILED));
    assert!(k.tsi().has(pos_emv::Tsi::ISSUER_AUTH) && k.tsi().has(pos_emv::Tsi::ODA));
    assert_eq!(k.cryptogram().map(|c| c.0), Some(Cryptogram::Tc));
}

#[test]
fn a_forged_arpc_fails_issuer_authentication_and_the_card_declines() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-debit");
    let mut k = start(&mut c, &terminal, &keys, 1234).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    k.online_pin_entered(&mut c, true).expect("pin");
    k.first_generate_ac(&mut c).expect("1st AC");
    let forged = HostAnswer::Answered {
        arc: *b"00",
        issuer_authentication: Some(vec![
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, b'0', b'0',
        ]),
        scripts: Vec::new(),
    };
    let done = k.complete(&mut c, &forged).expect("completion");
    assert!(k.tvr().has(bit::ISSUER_AUTH_FAILED));
    assert!(
        !done.approved && done.reverse,
        "host approved, card declined: reverse (06)"
    );
}

#[test]
fn sda_passes_and_signature_is_the_cvm_of_the_credit_card() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-credit");
    let mut k = start(&mut c, &terminal, &keys, 50_00).expect("start");
    assert_eq!(k.oda(), (OdaMethod::Sda, OdaResult::Passed));
    assert!(k.tvr().has(bit::SDA_SELECTED) && !k.tvr().has(bit::SDA_FAILED));
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::Done
    );
    assert!(k.signature_required());
    assert_eq!(k.cvm_results(), [0x5E, 0x03, 0x00]);
}

#[test]
fn a_broken_static_signature_sets_sda_failed_and_goes_online() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-sda-failure");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    assert!(
        matches!(k.oda(), (OdaMethod::Sda, OdaResult::Failed(_))),
        "{:?}",
        k.oda()
    );
    assert!(k.tvr().has(bit::SDA_FAILED));
    k.cardholder_verification(&mut c).expect("cvm");
    k.online_pin_entered(&mut c, true).expect("pin");
    assert_eq!(
        k.first_generate_ac(&mut c).expect("1st AC"),
        Cryptogram::Arqc
    );
}

#[test]
fn without_the_ca_key_dda_fails() {
    let terminal = TerminalConfig::china_pos();
    let none = CapkSet::new();
    let mut c = card("unionpay-debit");
    let k = start(&mut c, &terminal, &none, 100).expect("start");
    assert!(k.tvr().has(bit::DDA_FAILED));
    assert_eq!(
        k.oda().1,
        OdaResult::Failed(pos_emv::oda::OdaFailure::UnknownCapk)
    );
}

#[test]
fn cda_signs_the_cryptogram_and_the_kernel_checks_it() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-cda");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    assert_eq!(k.oda().0, OdaMethod::Cda);
    k.cardholder_verification(&mut c).expect("cvm");
    k.online_pin_entered(&mut c, true).expect("pin");
    assert_eq!(
        k.first_generate_ac(&mut c).expect("1st AC"),
        Cryptogram::Arqc
    );
    assert_eq!(k.oda().1, OdaResult::Passed);
    assert!(k.tsi().has(pos_emv::Tsi::ODA) && !k.tvr().has(bit::CDA_FAILED));
    let field55 = k.icc_data(ONLINE_TAGS);
    let answer = host_answer(&field55, &digits("6212345678901232"), 1, *b"00");
    assert!(k.complete(&mut c, &answer).expect("completion").approved);
}

#[test]
fn an_expired_card_sets_the_expired_bit() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-expired");
    let k = start(&mut c, &terminal, &keys, 100).expect("start");
    assert!(k.tvr().has(bit::EXPIRED));
}

#[test]
fn offline_pin_is_verified_by_the_card_with_retries() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-offline-pin");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::OfflinePin {
            tries_left: Some(3)
        }
    );
    let wrong = k
        .verify_offline_pin(&mut c, Some(&pin("9999")), &RANDOM)
        .expect("verify");
    assert_eq!(
        wrong,
        CvmStep::OfflinePin {
            tries_left: Some(2)
        }
    );
    let right = k
        .verify_offline_pin(&mut c, Some(&pin("1234")), &RANDOM)
        .expect("verify");
    assert_eq!(right, CvmStep::Done);
    assert_eq!(k.cvm_results(), [0x41, 0x03, 0x02]);
}

/// CVM 04: the PIN goes to the card enciphered under its ICC key, with a challenge it gave
/// just before; the wire never carries the plaintext block.
#[test]
fn enciphered_offline_pin_is_verified_under_the_icc_key_with_a_fresh_challenge() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-enciphered-pin");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::OfflinePin {
            tries_left: Some(3)
        }
    );
    assert_eq!(
        k.verify_offline_pin(&mut c, Some(&pin("9999")), &RANDOM)
            .expect("verify"),
        CvmStep::OfflinePin {
            tries_left: Some(2)
        },
        "the card deciphered and counted a wrong PIN"
    );
    assert_eq!(
        k.verify_offline_pin(&mut c, Some(&pin("1234")), &[0xA5; 32])
            .expect("verify"),
        CvmStep::Done
    );
    assert_eq!(k.cvm_results(), [0x44, 0x03, 0x02]);
    assert!(!k.tvr().has(bit::CVM_FAILED));
    let verifies: Vec<&Vec<u8>> = c.trace.iter().filter(|a| a[1] == 0x20).collect();
    assert_eq!(verifies.len(), 2);
    for (i, apdu) in c.trace.iter().enumerate().filter(|(_, a)| a[1] == 0x20) {
        assert_eq!(apdu[3], 0x88, "enciphered PIN (P2 88)");
        assert!(apdu[4] as usize > 64, "a whole RSA block");
        assert_eq!(c.trace[i - 1][1], 0x84, "right after a GET CHALLENGE");
        for plain in [[0x24, 0x12, 0x34, 0xFF], [0x24, 0x99, 0x99, 0xFF]] {
            assert!(!apdu.windows(4).any(|w| w == plain), "no plaintext block");
        }
    }
    assert_ne!(verifies[0][5..], verifies[1][5..]);
}

/// A terminal whose capabilities (9F33) lack enciphered PIN skips the rule: the next one
/// (signature) applies.
#[test]
fn without_enciphered_pin_capability_the_next_cvm_applies() {
    let mut terminal = TerminalConfig::china_pos();
    terminal.capabilities[1] &= !0x10;
    let keys = capks();
    let mut c = card("unionpay-enciphered-pin");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::Done
    );
    assert!(k.signature_required());
    assert!(!c.commands.contains(&0x20), "no VERIFY");
}

/// A card answers an enciphered VERIFY only with the challenge it just gave: the same
/// block sent again is refused and costs no try.
#[test]
fn a_replayed_enciphered_pin_is_refused_by_the_card() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-enciphered-pin");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    k.verify_offline_pin(&mut c, Some(&pin("1234")), &RANDOM)
        .expect("verify");
    let verify = c
        .trace
        .iter()
        .rev()
        .find(|a| a[1] == 0x20)
        .cloned()
        .expect("sent");
    let answer = pos_sim::card::Card::transmit(c.card(), &verify);
    assert_eq!(answer, [0x69, 0x85]);
}

#[test]
fn three_wrong_offline_pins_exceed_the_try_limit_and_fall_to_signature() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-offline-pin");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    let mut step = CvmStep::OfflinePin {
        tries_left: Some(3),
    };
    for _ in 0..3 {
        step = k
            .verify_offline_pin(&mut c, Some(&pin("0000")), &RANDOM)
            .expect("verify");
    }
    assert_eq!(step, CvmStep::Done);
    assert!(k.tvr().has(bit::PIN_TRY_LIMIT_EXCEEDED));
    assert!(k.signature_required(), "the next rule (signature) applies");
}

#[test]
fn bypassing_the_online_pin_fails_that_rule_and_signature_follows() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-debit");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    assert_eq!(
        k.online_pin_entered(&mut c, false).expect("bypass"),
        CvmStep::Done
    );
    assert!(k.tvr().has(bit::PIN_NOT_ENTERED));
    assert!(k.signature_required());
}

#[test]
fn host_unreachable_falls_to_default_action_analysis_and_declines() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-debit");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    k.online_pin_entered(&mut c, true).expect("pin");
    k.first_generate_ac(&mut c).expect("1st AC");
    let done = k
        .complete(&mut c, &HostAnswer::Unreachable)
        .expect("completion");
    assert!(!done.approved && !done.reverse);
    assert_eq!(done.cryptogram, Cryptogram::Aac);
}

#[test]
fn a_card_declining_after_host_approval_asks_for_a_reversal() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-card-declines");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    k.online_pin_entered(&mut c, true).expect("pin");
    k.first_generate_ac(&mut c).expect("1st AC");
    let answer = host_answer(
        &k.icc_data(ONLINE_TAGS),
        &digits("6212345678901232"),
        1,
        *b"00",
    );
    let done = k.complete(&mut c, &answer).expect("completion");
    assert!(done.reverse && !done.approved);
}

#[test]
fn a_card_pulled_at_any_command_ends_in_a_reader_error_never_a_panic() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    for n in 0..20 {
        let mut c = card("unionpay-debit").pulled_after(n);
        let mut run = || -> Result<(), EmvError> {
            let mut k = start(&mut c, &terminal, &keys, 100)?;
            k.cardholder_verification(&mut c)?;
            k.online_pin_entered(&mut c, true)?;
            k.first_generate_ac(&mut c)?;
            let answer = host_answer(
                &k.icc_data(ONLINE_TAGS),
                &digits("6212345678901232"),
                1,
                *b"00",
            );
            k.complete(&mut c, &answer)?;
            Ok(())
        };
        match run() {
            Ok(()) => assert!(
                n >= 13,
                "completed with the card pulled after {n} of 13 commands"
            ),
            Err(e) => assert_eq!(e.kind(), pos_hal::ErrorKind::CardRemoved, "after {n}: {e}"),
        }
    }
}

#[test]
fn field_55_carries_the_cup_online_tags_in_order() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-debit");
    let mut k = start(&mut c, &terminal, &keys, 1234).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    k.online_pin_entered(&mut c, true).expect("pin");
    k.first_generate_ac(&mut c).expect("1st AC");
    let field55 = k.icc_data(ONLINE_TAGS);
    let tags: Vec<u32> = pos_hal::tlv::TlvIter::new(&field55)
        .map(|t| t.expect("valid TLV").tag)
        .collect();
    assert_eq!(&tags[..6], &[0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95]);
    let amount = find(&field55, 0x9F02).expect("tlv").expect("9F02");
    assert_eq!(amount.value, [0, 0, 0, 0, 0x12, 0x34]);
    assert!(
        find(&field55, 0x5A).expect("tlv").is_none(),
        "no PAN in field 55"
    );
}

#[test]
fn an_aid_table_from_a_file_with_a_floor_limit_lets_an_offline_capable_card_approve_offline() {
    let terminal = TerminalConfig::from_toml(
        r#"
        capabilities = "E068C8"
        [[aid]]
        aid = "A0000003330101"
        partial = true
        tac_denial = "0010000000"
        tac_online = "D840000000"
        tac_default = "D840000000"
        floor_limit = 50000
        "#,
    )
    .expect("configuration");
    let keys = capks();
    let mut c = card("unionpay-qpboc-offline");
    let mut k = start(&mut c, &terminal, &keys, 1234).expect("start");
    // No PIN pad for this one: the cardholder signs.
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::OnlinePin
    );
    assert_eq!(
        k.online_pin_entered(&mut c, false).expect("bypass"),
        CvmStep::Done
    );
    assert_eq!(k.first_generate_ac(&mut c).expect("1st AC"), Cryptogram::Tc);
    assert!(!k.tvr().has(bit::FLOOR_LIMIT_EXCEEDED));
    // The same card on the default configuration (floor limit 0) goes online.
    let default = TerminalConfig::china_pos();
    let mut c = card("unionpay-qpboc-offline");
    let mut k = start(&mut c, &default, &keys, 1234).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    k.online_pin_entered(&mut c, false).expect("bypass");
    assert_eq!(
        k.first_generate_ac(&mut c).expect("1st AC"),
        Cryptogram::Arqc
    );
}

#[test]
fn a_configuration_file_without_an_aid_or_with_bad_hex_is_refused() {
    assert_eq!(
        TerminalConfig::from_toml("capabilities = \"E068C8\"").err(),
        Some(pos_emv::ConfigFileError::NoAid)
    );
    let bad =
        "[[aid]]\naid = \"A0\"\ntac_denial = \"00\"\ntac_online = \"00\"\ntac_default = \"00\"\n";
    assert!(matches!(
        TerminalConfig::from_toml(bad),
        Err(pos_emv::ConfigFileError::Field(_))
    ));
}

#[test]
fn the_contactless_limits_come_from_the_configuration_file() {
    let aid = "[[aid]]\naid = \"A0000003330101\"\ntac_denial = \"0000000000\"\ntac_online = \"0000000000\"\ntac_default = \"0000000000\"\n";
    let t = TerminalConfig::from_toml(&format!("[contactless]\nfloor_limit = 5000\n{aid}"))
        .expect("config");
    assert_eq!(t.contactless.floor_limit, 5000);
    assert_eq!(
        t.contactless.cvm_limit,
        pos_emv::ContactlessLimits::default().cvm_limit,
        "what the file leaves out keeps its default"
    );
    assert!(matches!(
        TerminalConfig::from_toml(&format!("[contactless]\ncvm_limit = 1000000000000\n{aid}")),
        Err(pos_emv::ConfigFileError::Field("contactless.cvm_limit"))
    ));
    assert!(matches!(
        TerminalConfig::from_toml(&format!("[contactless]\nfloor = 1\n{aid}")),
        Err(pos_emv::ConfigFileError::Syntax(_))
    ));
}

fn ec_start<'k>(
    c: &mut pos_sim::card::InHand<pos_sim::emv::EmvCard>,
    terminal: &'k TerminalConfig,
    keys: &'k pos_emv::CapkSet,
    amount: u64,
) -> pos_emv::Contact<'k> {
    let (list, _) = pos_emv::candidates(c, terminal).expect("candidates");
    let mut data = common::txn(amount);
    data.electronic_cash = true;
    pos_emv::Contact::start(c, terminal, keys, &list[0], &data).expect("start")
}

#[test]
fn electronic_cash_within_the_balance_is_approved_offline_and_paid_from_it() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-ec");
    let mut k = ec_start(&mut c, &terminal, &keys, 3000);
    assert!(k.electronic_cash());
    // Online PIN cannot be checked offline: the next rule (signature) applies.
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::Done
    );
    assert_eq!(k.cvm_results()[0] & 0x3F, 0x1E);
    assert!(!k.tvr().has(bit::FLOOR_LIMIT_EXCEEDED));
    assert_eq!(k.first_generate_ac(&mut c).expect("1st AC"), Cryptogram::Tc);
    // RMB 100.00 - 30.00 left on the card.
    assert_eq!(k.ec_balance(), Some(7000));
    let mut again = ec_start(&mut c, &terminal, &keys, 8000);
    assert!(
        !again.electronic_cash(),
        "RMB 80.00 is over the RMB 70.00 left"
    );
    again.cardholder_verification(&mut c).expect("cvm");
    assert!(again.tvr().has(bit::FLOOR_LIMIT_EXCEEDED));
}

#[test]
fn electronic_cash_over_the_terminal_limit_or_not_chosen_goes_online() {
    let mut terminal = TerminalConfig::china_pos();
    terminal.ec_terminal_limit = 2000;
    let keys = capks();
    let mut c = card("unionpay-ec");
    let mut k = ec_start(&mut c, &terminal, &keys, 3000);
    assert!(!k.electronic_cash());
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::OnlinePin
    );
    let plain = TerminalConfig::china_pos();
    let mut c = card("unionpay-ec");
    let mut k = start(&mut c, &plain, &keys, 3000).expect("start");
    assert!(!k.electronic_cash());
    k.cardholder_verification(&mut c).expect("cvm");
    k.online_pin_entered(&mut c, true).expect("pin");
    assert_eq!(
        k.first_generate_ac(&mut c).expect("1st AC"),
        Cryptogram::Arqc
    );
}

#[test]
fn a_revoked_issuer_certificate_fails_offline_data_authentication() {
    let terminal = TerminalConfig::china_pos();
    // The simulated cards' issuer certificate: serial 000001 under the test CA key.
    let revoked = format!(
        "{}\n[[revoked]]\nrid = \"A000000333\"\nindex = \"{}\"\nserial = \"000001\"\n",
        pos_sim::emv::TEST_CAPK_TOML,
        pos_sim::emv::TEST_CAPK_TOML
            .lines()
            .find_map(|l| l.strip_prefix("index = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("the test CA's index")
    );
    let keys = pos_emv::CapkSet::from_toml(&revoked).expect("CAPK file with a revocation");
    let mut c = card("unionpay-debit");
    let k = start(&mut c, &terminal, &keys, 1234).expect("start");
    assert_eq!(
        k.oda().1,
        OdaResult::Failed(pos_emv::oda::OdaFailure::Revoked)
    );
    assert!(k.tvr().has(bit::DDA_FAILED));
    // Not revoked: the same card passes.
    let trusted = capks();
    let mut c = card("unionpay-debit");
    let k = start(&mut c, &terminal, &trusted, 1234).expect("start");
    assert_eq!(k.oda(), (OdaMethod::Dda, OdaResult::Passed));
}

#[test]
fn a_card_with_two_applications_lists_both_by_priority() {
    let terminal = TerminalConfig::china_pos();
    let mut c = card("unionpay-dual");
    let (list, method) = candidates(&mut c, &terminal).expect("candidates");
    assert_eq!(method, pos_emv::SelectionMethod::Pse);
    let labels: Vec<&str> = list.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["UnionPay Debit", "UnionPay Credit"]);
    // The second one starts and reads its own account.
    let keys = capks();
    let k = pos_emv::Contact::start(&mut c, &terminal, &keys, &list[1], &common::txn(100))
        .expect("start the credit application");
    assert_eq!(
        k.pan().map(|p| p.reveal().to_string()).as_deref(),
        Some("6225880123456783")
    );
}

/// The issuer's PIN UNBLOCK script (72, after the second GENERATE AC) for the last ARQC of
/// `field55`, its MAC under `imk_smi`.
fn pin_unblock_script(field55: &[u8], imk_smi: &[u8; 16]) -> Vec<u8> {
    let get = |tag| find(field55, tag).ok().flatten().map(|t| t.value.to_vec());
    let atc: [u8; 2] = get(0x9F36).expect("ATC").try_into().expect("2");
    let arqc: [u8; 8] = get(0x9F26).expect("AC").try_into().expect("8");
    let mk_smi = pos_emv::issuer::card_master_key(imk_smi, &digits("6212345678901232"), 1);
    let command =
        pos_emv::issuer::script_command(&mk_smi, atc, arqc, [0x84, 0x24, 0x00, 0x00], &[])
            .expect("fits");
    let mut body = pos_sim::tlv::tlv(0x9F18, &[0, 0, 0, 7]);
    body.extend_from_slice(&pos_sim::tlv::tlv(0x86, &command));
    pos_sim::tlv::tlv(0x72, &body)
}

/// Runs a sale on the card whose offline PIN is blocked (tries 0: the online PIN is used)
/// and answers it with `scripts`; returns the completion and the card.
fn sale_answered_with_script(
    imk_smi: &[u8; 16],
) -> (pos_emv::Completion, pos_emv::Tvr, InHand<EmvCard>) {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-pin-blocked");
    let mut k = start(&mut c, &terminal, &keys, 1234).expect("start");
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::OnlinePin,
        "no offline tries left: the next method"
    );
    assert!(k.tvr().has(bit::PIN_TRY_LIMIT_EXCEEDED));
    k.online_pin_entered(&mut c, true).expect("pin");
    assert_eq!(
        k.first_generate_ac(&mut c).expect("1st AC"),
        Cryptogram::Arqc
    );
    let field55 = k.icc_data(ONLINE_TAGS);
    let HostAnswer::Answered {
        arc,
        issuer_authentication,
        ..
    } = host_answer(&field55, &digits("6212345678901232"), 1, *b"00")
    else {
        unreachable!("answered")
    };
    let answer = HostAnswer::Answered {
        arc,
        issuer_authentication,
        scripts: pin_unblock_script(&field55, imk_smi),
    };
    let done = k.complete(&mut c, &answer).expect("completion");
    (done, k.tvr(), c)
}

fn pin_tries_on_the_card(c: &mut InHand<EmvCard>) -> Vec<u8> {
    pos_sim::card::Card::transmit(c.card(), &[0x80, 0xCA, 0x9F, 0x17, 0x00])
}

#[test]
fn an_issuer_script_after_the_second_ac_unblocks_the_pin_and_is_reported_in_df31() {
    let (done, tvr, mut c) = sale_answered_with_script(&pos_sim::emv::TEST_IMK_SMI);
    assert!(done.approved, "{done:?}");
    assert_eq!(
        done.script_results,
        [0x20, 0, 0, 0, 7],
        "successful, script 7"
    );
    assert!(!tvr.has(bit::SCRIPT_FAILED_AFTER));
    assert_eq!(
        pin_tries_on_the_card(&mut c),
        [0x9F, 0x17, 0x01, 0x03, 0x90, 0x00],
        "three tries again"
    );
}

#[test]
fn a_script_whose_mac_fails_changes_nothing_and_is_reported_failed() {
    let (done, tvr, mut c) = sale_answered_with_script(&[0x42; 16]);
    assert!(done.approved, "the sale itself stands: {done:?}");
    assert_eq!(
        done.script_results,
        [0x11, 0, 0, 0, 7],
        "failed at command 1"
    );
    assert!(tvr.has(bit::SCRIPT_FAILED_AFTER));
    assert_eq!(
        pin_tries_on_the_card(&mut c),
        [0x9F, 0x17, 0x01, 0x00, 0x90, 0x00],
        "still blocked"
    );
}

#[test]
fn after_the_unblock_script_the_next_transaction_verifies_the_pin_offline() {
    let (_, _, mut c) = sale_answered_with_script(&pos_sim::emv::TEST_IMK_SMI);
    pos_sim::card::Card::reset(c.card());
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut k = start(&mut c, &terminal, &keys, 1000).expect("start");
    assert_eq!(
        k.cardholder_verification(&mut c).expect("cvm"),
        CvmStep::OfflinePin {
            tries_left: Some(3)
        }
    );
    assert_eq!(
        k.verify_offline_pin(&mut c, Some(&pin("1234")), &RANDOM)
            .expect("verify"),
        CvmStep::Done
    );
}

/// The PIN pad port's way: the kernel prepares (key and challenge), the PIN pad makes the
/// VERIFY data, the kernel sends it — the PIN never passes through the kernel.
#[test]
fn an_enciphered_pin_made_by_the_pin_pad_is_verified_by_the_card() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-enciphered-pin");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    let pos_emv::OfflinePinPrep::Enciphered(how) = k.prepare_offline_pin(&mut c).expect("prepare")
    else {
        panic!("an enciphered PIN");
    };
    // What a PIN pad does with the request it is given.
    let data =
        pos_emv::pin::offline_pin_data(b"1234", Some(how.card_key()), &RANDOM).expect("enciphered");
    assert!(data.enciphered);
    let plain = pos_emv::pin::offline_pin_data(b"1234", None, &RANDOM).expect("plain");
    assert!(
        matches!(
            k.verify_offline_pin_data(&mut c, Some(&plain)),
            Err(EmvError::InvalidInput(_))
        ),
        "a plaintext block for an enciphered CVM is refused before the card sees it"
    );
    assert_eq!(
        k.verify_offline_pin_data(&mut c, Some(&data))
            .expect("verify"),
        CvmStep::Done
    );
    assert_eq!(k.cvm_results(), [0x44, 0x03, 0x02]);
}

#[test]
fn a_bypassed_offline_pin_fails_the_rule_and_the_next_one_applies() {
    let terminal = TerminalConfig::china_pos();
    let keys = capks();
    let mut c = card("unionpay-offline-pin");
    let mut k = start(&mut c, &terminal, &keys, 100).expect("start");
    k.cardholder_verification(&mut c).expect("cvm");
    assert_eq!(
        k.prepare_offline_pin(&mut c).expect("prepare"),
        pos_emv::OfflinePinPrep::Plaintext
    );
    assert_eq!(
        k.verify_offline_pin_data(&mut c, None).expect("bypass"),
        CvmStep::Done
    );
    assert!(k.tvr().has(bit::PIN_NOT_ENTERED));
    assert!(k.signature_required(), "the next rule: signature");
}
