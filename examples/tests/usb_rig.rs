//! `swipe` in the QEMU USB rig: the program an integrator runs first reads the MagTek, IDTech
//! and wedge gadgets through each USB backend — libusb (`--usb`), hidraw and evdev
//! (`--device`) — and finds a reader by itself when none is named. Run with
//! `cargo xtask usb-hil test -p pos-examples` (part of `cargo xtask test`); ignored elsewhere.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use pos_sim::hid_gadget::{swipe_idtech, swipe_magtek, swipe_wedge};

static RIG: Mutex<()> = Mutex::new(());
const T1: &str = "%B6212345678901232^ZHANG/SAN^3012220000000000000?";
const T2: &str = ";6212345678901232=30122200000000000?";
const MASKED: &str = "PAN: 621234******1232";

/// The program: copied into the guest's /hil/bin by xtask, or the cargo-built one.
fn swipe_program() -> PathBuf {
    let in_rig = Path::new("/hil/bin/swipe");
    if in_rig.exists() {
        in_rig.to_path_buf()
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_swipe"))
    }
}

/// Runs `swipe ARGS`; once it prompts, `device_side` swipes (given the prompt line). Returns
/// (exit ok, stdout, stderr).
fn swipe(args: &[&str], device_side: impl FnOnce(&str)) -> (bool, String, String) {
    let mut child = Command::new(swipe_program())
        .args(args)
        .args(["--timeout", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swipe runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut prompt = String::new();
    stdout.read_line(&mut prompt).expect("prompt");
    let mut out = prompt.clone();
    if prompt.starts_with("Swipe a card on ") {
        // The reader starts listening right after its prompt.
        std::thread::sleep(Duration::from_millis(300));
        device_side(&prompt);
    }
    stdout.read_to_string(&mut out).expect("stdout");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    (child.wait().expect("exit").success(), out, err)
}

fn assert_read(ok: bool, out: &str, err: &str) {
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains(MASKED) && out.contains("Expiry (YYMM): 3012"),
        "{out}"
    );
    assert!(
        !out.contains("6212345678901232") && !err.contains("6212345678901232"),
        "clear PAN printed"
    );
}

#[test]
#[ignore = "needs the QEMU USB rig: run by `cargo xtask usb-hil test -p pos-examples`"]
fn rig_swipe_reads_the_magtek_reader_through_libusb() {
    pos_sim::require_usb_rig("/dev/hidg0");
    let _rig = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let (ok, out, err) = swipe(&["--usb", "0801:0002"], |_| {
        swipe_magtek(Path::new("/dev/hidg0"), T1, T2, "").expect("swiped");
    });
    assert_read(ok, &out, &err);
}

#[test]
#[ignore = "needs the QEMU USB rig: run by `cargo xtask usb-hil test -p pos-examples`"]
fn rig_swipe_reads_the_idtech_reader_on_hidraw() {
    pos_sim::require_usb_rig("/dev/hidg2");
    let _rig = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let (ok, out, err) = swipe(&["--device", "msr:hidraw:0acd:2010"], |_| {
        swipe_idtech(Path::new("/dev/hidg2"), T1, T2, "").expect("swiped");
    });
    assert_read(ok, &out, &err);
}

#[test]
#[ignore = "needs the QEMU USB rig: run by `cargo xtask usb-hil test -p pos-examples`"]
fn rig_swipe_reads_the_wedge_on_evdev() {
    pos_sim::require_usb_rig("/dev/hidg1");
    let _rig = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let (ok, out, err) = swipe(&["--device", "msr:evdev:0801:0001"], |_| {
        swipe_wedge(Path::new("/dev/hidg1"), &format!("{T1}{T2}\n")).expect("typed");
    });
    assert_read(ok, &out, &err);
}

#[test]
#[ignore = "needs the QEMU USB rig: run by `cargo xtask usb-hil test -p pos-examples`"]
fn rig_swipe_without_a_reader_named_uses_the_first_one_found() {
    pos_sim::require_usb_rig("/dev/hidg0");
    let _rig = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let (ok, out, err) = swipe(&[], |prompt| {
        if prompt.contains("0acd:2010") {
            swipe_idtech(Path::new("/dev/hidg2"), T1, T2, "").expect("swiped");
        } else if prompt.contains("0801:0002") {
            swipe_magtek(Path::new("/dev/hidg0"), T1, T2, "").expect("swiped");
        } else {
            swipe_wedge(Path::new("/dev/hidg1"), &format!("{T1}{T2}\n")).expect("typed");
        }
    });
    assert!(out.starts_with("Swipe a card on msr:"), "{out}\n{err}");
    assert_read(ok, &out, &err);
}
