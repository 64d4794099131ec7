//! `emv-txn` through the real PC/SC stack (pcscd + vpcd) on the simulated cards: the EMV
//! kernel's scenarios that a bench would run with a real reader.

use std::process::Command;

use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::require_stack;
use pos_sim::slots;
use pos_sim::vpcd::Faults;

fn emv_txn(profile: &str, extra: &[&str]) -> (bool, String, String) {
    let card = EmvCard::new(CardProfile::builtin(profile).expect("profile"));
    let slot = slots::insert(0, card, Faults::default()).expect("insert");
    let mut args = vec!["--device", "pcsc:Virtual PCD 00 00", "--amount", "1234"];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_emv-txn"))
        .args(&args)
        .output()
        .expect("emv-txn runs");
    slots::remove(slot, 0).expect("remove");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn dda_card_completes_with_a_tc_through_pcscd() {
    require_stack();
    let (ok, out, err) = emv_txn("unionpay-debit", &[]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("AID: A000000333010101 UnionPay Debit"),
        "{out}"
    );
    assert!(out.contains("ODA: DDA ok"), "{out}");
    assert!(out.contains("CVM: online PIN"), "{out}");
    assert!(out.contains("Cryptogram: TC "), "{out}");
    assert!(out.contains("PAN: 621234******1232"), "{out}");
    assert!(
        !out.contains("6212345678901232") && !err.contains("6212345678901232"),
        "PAN leaked"
    );
    let field55 = out
        .lines()
        .find_map(|l| l.strip_prefix("Field 55: "))
        .expect("field 55");
    assert!(field55.starts_with("9F2608"), "{field55}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn cda_card_signs_its_cryptogram_through_pcscd() {
    require_stack();
    let (ok, out, err) = emv_txn("unionpay-cda", &[]);
    assert!(ok, "{err}\n{out}");
    assert!(out.contains("ODA: CDA ok"), "{out}");
    assert!(out.contains("Cryptogram: TC "), "{out}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_broken_sda_signature_is_reported_failed_with_its_tvr_bit() {
    require_stack();
    let (ok, out, err) = emv_txn("unionpay-sda-failure", &[]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("ODA: SDA failed (signed static data: hash mismatch)"),
        "{out}"
    );
    let tvr = out
        .lines()
        .find_map(|l| l.strip_prefix("TVR: "))
        .expect("TVR");
    assert_eq!(&tvr[..2], "42", "SDA failed + SDA selected: {tvr}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn offline_pin_is_checked_by_the_card_through_pcscd() {
    require_stack();
    let (ok, out, err) = emv_txn("unionpay-offline-pin", &["--offline-pin", "1234"]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("CVM: offline plaintext PIN (successful)"),
        "{out}"
    );
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn an_enciphered_offline_pin_is_checked_by_the_card_through_pcscd() {
    require_stack();
    let (ok, out, err) = emv_txn("unionpay-enciphered-pin", &["--offline-pin", "1234"]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("CVM: offline enciphered PIN (successful)"),
        "{out}"
    );
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn the_wrong_ca_key_file_fails_dda_without_failing_the_run() {
    require_stack();
    let dir = std::env::temp_dir().join(format!("emv-txn-capk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("capk.toml");
    std::fs::write(&file, "").expect("write");
    let (ok, out, err) = emv_txn("unionpay-debit", &["--capk", file.to_str().expect("utf-8")]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("ODA: DDA failed (no CA public key for the card's index)"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_blocked_card_ends_with_a_clear_message_and_a_failure_exit() {
    require_stack();
    let (ok, out, err) = emv_txn("unionpay-blocked", &[]);
    assert!(!ok, "{out}");
    assert!(err.contains("emv-txn: SELECT refused by the card"), "{err}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_qpboc_tap_goes_online_with_its_cryptogram_from_gpo_through_pcscd() {
    require_stack();
    let (ok, out, err) = emv_txn("unionpay-debit", &["--contactless"]);
    assert!(ok, "{err}\n{out}");
    assert!(out.contains("Cryptogram: ARQC "), "{out}");
    assert!(out.contains("ODA: fDDA not performed"), "{out}");
    assert!(
        out.contains("Lights: ●●●●") && out.contains("Beep: Success"),
        "{out}"
    );
    let field55 = out
        .lines()
        .find_map(|l| l.strip_prefix("Field 55: "))
        .expect("field 55");
    assert!(
        field55.contains("9F660436800080"),
        "TTQ travels to the issuer: {field55}"
    );
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_qpboc_card_approves_offline_under_the_floor_limit_with_fdda_through_pcscd() {
    require_stack();
    let (ok, out, err) = emv_txn(
        "unionpay-qpboc-offline",
        &["--contactless", "--floor-limit", "50000"],
    );
    assert!(ok, "{err}\n{out}");
    assert!(out.contains("ODA: fDDA ok"), "{out}");
    assert!(out.contains("Cryptogram: TC "), "{out}");
}

#[test]
fn a_qpboc_tap_through_the_pn532_driver_and_through_libnfc() {
    for driver in ["pn532:", "nfc:pn532_uart:"] {
        let pn532 = pos_sim::pn532::Pn532Emulator::start().expect("PN532 emulator");
        let card = EmvCard::new(CardProfile::builtin("unionpay-qpboc-offline").expect("profile"));
        pn532.insert(pos_sim::pn532::Presented::iso_dep_a(
            card,
            &[0x04, 0x0A, 0x0B, 0x0C],
        ));
        let out = Command::new(env!("CARGO_BIN_EXE_emv-txn"))
            .args(["--device", &format!("{driver}{}", pn532.path())])
            .args([
                "--amount",
                "1234",
                "--contactless",
                "--floor-limit",
                "50000",
            ])
            .output()
            .expect("emv-txn runs");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{driver}: {stderr}\n{stdout}");
        assert!(stdout.contains("Card: UID 040A0B0C"), "{stdout}");
        assert!(
            stdout.contains("ODA: fDDA ok") && stdout.contains("Cryptogram: TC "),
            "{stdout}"
        );
    }
}

#[test]
fn the_shipped_terminal_configuration_file_loads() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/emv-terminal.toml"))
        .expect("file");
    let t = pos_emv::TerminalConfig::from_toml(&text).expect("valid");
    assert_eq!(t.aids.len(), 1);
    assert!(t.aids[0].partial);
}
