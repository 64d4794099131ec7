//! The example programs against the real pcscd + vpcd with a simulated card.

use std::process::Command;

use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::require_stack;
use pos_sim::slots;
use pos_sim::vpcd::Faults;

fn run(bin: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin).args(args).output().expect("program runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn read_card_prints_applications_and_masked_pan() {
    require_stack();
    let profile = CardProfile::builtin("unionpay-debit").expect("profile");
    let card = slots::insert(0, EmvCard::new(profile), Faults::default()).expect("insert");
    // A timeout too large for the clock means "wait for ever", never a panic.
    let (ok, out, err) = run(
        env!("CARGO_BIN_EXE_read-card"),
        &["--reader", "PCD 00 00", "--timeout", "18446744073709551615"],
    );
    assert!(ok, "read-card failed: {err}\n{out}");
    assert!(out.contains("ATR: 3B 8A 80 01"), "{out}");
    assert!(
        out.contains("AID: A000000333010101 UnionPay Debit"),
        "{out}"
    );
    assert!(out.contains("PAN: 621234******1232"), "{out}");
    assert!(
        !out.contains("6212345678901232") && !err.contains("6212345678901232"),
        "PAN leaked"
    );
    slots::remove(card, 0).expect("remove");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn read_card_finds_the_reader_with_a_card_and_reads_ppse_only_cards() {
    require_stack();
    let mut profile = CardProfile::builtin("visa-credit").expect("profile");
    profile.pse = false; // a contactless-style card: PPSE only
    profile.t0 = true;
    let card = slots::insert(1, EmvCard::new(profile), Faults::default()).expect("insert");
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_read-card"), &["--timeout", "3"]);
    assert!(ok, "read-card failed: {err}\n{out}");
    assert!(out.contains("Reader: Virtual PCD 00 01"), "{out}");
    assert!(out.contains("Applications (PPSE)"), "{out}");
    assert!(out.contains("AID: A0000000031010 VISA CREDIT"), "{out}");
    assert!(out.contains("PAN: 476173******0010"), "{out}");
    slots::remove(card, 1).expect("remove");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn read_card_without_a_card_times_out_clearly() {
    require_stack();
    slots::wait_state(1, None, std::time::Duration::from_secs(5)).expect("empty");
    let (ok, _out, err) = run(
        env!("CARGO_BIN_EXE_read-card"),
        &["--reader", "PCD 00 01", "--timeout", "1"],
    );
    assert!(!ok);
    assert!(err.contains("timed out"), "{err}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn devices_lists_both_readers_with_state() {
    require_stack();
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_devices"), &[]);
    assert!(ok, "{err}");
    assert!(out.contains("Virtual PCD 00 00"), "{out}");
    assert!(out.contains("Virtual PCD 00 01"), "{out}");
    assert!(out.contains("empty") || out.contains("card"), "{out}");
}

#[test]
fn devices_says_clearly_when_pcscd_is_not_running() {
    // The PC/SC client library honours PCSCLITE_CSOCK_NAME: point it at nothing.
    let out = Command::new(env!("CARGO_BIN_EXE_devices"))
        .env("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains("pcscd is not running"), "{stdout}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn devices_json_selectors_open_with_read_card_as_printed() {
    require_stack();
    let profile = CardProfile::builtin("unionpay-debit").expect("profile");
    let card = slots::insert(1, EmvCard::new(profile), Faults::default()).expect("insert");
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_devices"), &["--json"]);
    assert!(ok, "{err}");
    let listed: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let reader = listed
        .iter()
        .find(|d| d["name"] == "Virtual PCD 00 01")
        .expect("the second vpcd reader is listed");
    assert_eq!(reader["driver"], "pcsc");
    assert_eq!(reader["kind"], "contact-reader");
    let selector = reader["selector"].as_str().expect("selector");
    assert_eq!(selector, "pcsc:Virtual PCD 00 01");
    let (ok, out, err) = run(
        env!("CARGO_BIN_EXE_read-card"),
        &["--device", selector, "--timeout", "3"],
    );
    assert!(ok, "read-card --device {selector}: {err}\n{out}");
    assert!(out.contains("PAN: 621234******1232"), "{out}");
    slots::remove(card, 1).expect("remove");
}

#[test]
fn read_card_names_a_bad_selector_without_panicking() {
    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_read-card"),
        &[
            "--device",
            "nosuch:reader",
            "--timeout",
            "18446744073709551615",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("nosuch:reader") && err.contains("unknown driver"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
