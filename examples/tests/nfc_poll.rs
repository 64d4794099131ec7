//! `nfc-poll` against the PN532 emulator on a pty, through Debian's libnfc (`pn532_uart`)
//! and through the built-in pos-pn532 driver.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::pn532::{Pn532Emulator, Presented};

fn debit() -> EmvCard {
    EmvCard::new(CardProfile::builtin("unionpay-debit").expect("profile"))
}

/// Runs `nfc-poll` with `args` (the emulator's path replaces `{}`); takes the card away once
/// the program asks for that. Returns (exit ok, stdout, stderr).
fn nfc_poll(emulator: &Pn532Emulator, args: &[&str]) -> (bool, String, String) {
    nfc_poll_env(emulator, args, &[])
}

/// [`nfc_poll`] with environment variables (`{}` replaced as in the arguments).
fn nfc_poll_env(
    emulator: &Pn532Emulator,
    args: &[&str],
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{}", emulator.path()))
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nfc-poll"))
        .args(&args)
        .envs(
            env.iter()
                .map(|(k, v)| (*k, v.replace("{}", emulator.path()))),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nfc-poll runs");
    let mut out = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while lines.read_line(&mut line).expect("stdout") > 0 {
        if line.starts_with("Remove the card") {
            emulator.remove();
        }
        out.push_str(&line);
        line.clear();
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    (child.wait().expect("exit").success(), out, err)
}

const DEBIT_AID: &str = "AID: A000000333010101";

#[test]
fn libnfc_finds_the_card_lists_its_applications_and_sees_it_leave() {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(Presented::iso_dep_a(debit(), &[0x08, 0xA1, 0xB2, 0xC3]));
    let (ok, out, err) = nfc_poll(&e, &["--device", "pn532_uart:{}", "--timeout", "5"]);
    assert!(ok, "{err}\n{out}");
    assert!(out.contains("UID: 08A1B2C3"), "{out}");
    assert!(out.contains("ATQA: ") && out.contains("ATS: "), "{out}");
    assert!(out.contains(DEBIT_AID), "{out}");
    assert!(out.ends_with("Card removed.\n"), "{out}");
}

#[test]
fn the_builtin_pn532_driver_finds_a_type_b_card() {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(Presented::iso_dep_b(debit(), [0xB1, 0xB2, 0xB3, 0xB4]));
    let (ok, out, err) = nfc_poll(&e, &["--pn532", "{}", "--timeout", "5"]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("UID: B1B2B3B4") && out.contains("ATQB: 50B1B2B3B4"),
        "{out}"
    );
    assert!(out.contains(DEBIT_AID), "{out}");
}

#[test]
fn an_empty_field_is_a_clear_message_and_a_failure() {
    let e = Pn532Emulator::start().expect("emulator");
    let (ok, out, err) = nfc_poll(&e, &["--device", "nfc:pn532_uart:{}", "--timeout", "1"]);
    assert!(!ok, "{out}");
    assert!(err.contains("no contactless card within 1 s"), "{err}");
}

#[test]
fn two_cards_are_told_to_present_one_only() {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(Presented::iso_dep_a(debit(), &[1, 2, 3, 4]));
    e.insert(Presented::iso_dep_a(debit(), &[5, 6, 7, 8]));
    let (ok, _, err) = nfc_poll(&e, &["--pn532", "{}", "--timeout", "2"]);
    assert!(!ok && err.contains("present one card only"), "{err}");
}

#[test]
fn devices_lists_a_pn532_on_a_port_it_is_told_about_with_a_selector_that_opens_it() {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(Presented::iso_dep_a(debit(), &[1, 2, 3, 4]));
    let out = Command::new(env!("CARGO_BIN_EXE_devices"))
        .args(["--json", "--pn532", e.path()])
        .output()
        .expect("devices runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let selector = format!("\"selector\":\"pn532:{}\"", e.path());
    let line = text
        .lines()
        .find(|l| l.contains(&selector))
        .unwrap_or_else(|| panic!("not listed: {text}"));
    assert!(line.contains("\"kind\":\"contactless-reader\""), "{line}");
    let (ok, out, err) = nfc_poll(&e, &["--device", "pn532:{}", "--timeout", "5"]);
    assert!(ok && out.contains("UID: 01020304"), "{err}\n{out}");
}

#[test]
fn devices_says_when_a_named_port_has_no_pn532() {
    let out = Command::new(env!("CARGO_BIN_EXE_devices"))
        .args(["--pn532", "/dev/null"])
        .output()
        .expect("devices runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("/dev/null: no PN532 answers"), "{text}");
}

#[test]
fn without_a_device_nfc_poll_uses_the_reader_libnfc_device_names() {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(Presented::iso_dep_a(debit(), &[0x08, 0xA1, 0xB2, 0xC3]));
    let listed = Command::new(env!("CARGO_BIN_EXE_devices"))
        .arg("--json")
        .env("LIBNFC_DEVICE", format!("pn532_uart:{}", e.path()))
        .output()
        .expect("devices runs");
    let text = String::from_utf8_lossy(&listed.stdout);
    let selector = format!("\"selector\":\"nfc:pn532_uart:{}\"", e.path());
    assert!(text.contains(&selector), "{text}");
    let (ok, out, err) = nfc_poll_env(
        &e,
        &["--timeout", "5"],
        &[("LIBNFC_DEVICE", "pn532_uart:{}")],
    );
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("UID: 08A1B2C3") && out.contains(DEBIT_AID),
        "{out}"
    );
}
