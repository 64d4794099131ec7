//! `swipe` against the MSR emulator on a pty.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use pos_sim::msr::{Framing, MsrEmulator, SwipeCard};

fn swipe_with(card: &str) -> (bool, String, String) {
    let msr = MsrEmulator::start().expect("emulator");
    let mut child = Command::new(env!("CARGO_BIN_EXE_swipe"))
        .args(["--serial", msr.path(), "--timeout", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swipe runs");
    // Swipe once the program waits (it drops what came before its prompt).
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 5];
    stdout.read_exact(&mut first).expect("prompt");
    std::thread::sleep(Duration::from_millis(200));
    msr.swipe(&SwipeCard::builtin(card).expect("card"), Framing::StxEtx)
        .expect("swipe");
    let mut out = String::from_utf8_lossy(&first).into_owned();
    stdout.read_to_string(&mut out).expect("stdout");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let ok = child.wait().expect("exit").success();
    (ok, out, err)
}

#[test]
fn a_stripe_card_shows_its_masked_pan_expiry_and_service_code() {
    let (ok, out, err) = swipe_with("unionpay-debit");
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("PAN: 621234******1232") && out.contains("Expiry (YYMM): 3012"),
        "{out}"
    );
    assert!(
        out.contains("Service code: 101") && !out.contains("Chip card"),
        "{out}"
    );
    assert!(
        !out.contains("6212345678901232") && !err.contains("6212345678901232"),
        "track data leaked"
    );
}

#[test]
fn a_chip_card_is_told_to_insert_and_a_misread_track1_still_reads() {
    let (ok, out, _) = swipe_with("chip-card");
    assert!(ok && out.contains("Chip card — please insert"), "{out}");
    let (ok, out, _) = swipe_with("misread-track1");
    assert!(ok && out.contains("Tracks: 1 misread, 2 read"), "{out}");
}

#[test]
fn no_swipe_is_a_clear_message_and_a_failure_exit() {
    let msr = MsrEmulator::start().expect("emulator");
    let out = Command::new(env!("CARGO_BIN_EXE_swipe"))
        .args(["--serial", msr.path(), "--timeout", "1"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no card was swiped in time"));
}

#[test]
fn usb_names_a_libusb_reader_and_no_reader_at_all_looks_for_one() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_swipe"))
            .args(args)
            .output()
            .expect("swipe runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // No USB reader on this machine: the error is about that reader, not "name a reader".
    let (ok, err) = run(&["--usb", "0801:0002", "--timeout", "1"]);
    assert!(
        !ok && err.contains("0801") && !err.contains("name one"),
        "{err}"
    );
    let (ok, err) = run(&["--usb", "08:2"]);
    assert!(!ok && err.contains("4 hex digits"), "{err}");
    if pos_msr::hidraw::known().is_empty() && pos_msr::evdev::known().is_empty() {
        let (ok, err) = run(&["--timeout", "1"]);
        assert!(
            !ok && err.contains("no USB magstripe reader found"),
            "{err}"
        );
    }
}
