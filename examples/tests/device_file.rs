//! `pos --devices FILE`: the roles come from the file (flags win), and a bare `swipe` line
//! waits for a real swipe on the magstripe reader it names — here the MSR emulator on a pty.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Stage, script};
use pos_sim::msr::{Framing, MsrEmulator, SwipeCard};

#[test]
fn a_sale_swiped_on_the_magstripe_reader_named_by_the_device_file() {
    let stage = Stage::new("devfile", "msr");
    let msr = MsrEmulator::start().expect("MSR emulator");
    let devices = stage.dir.0.join("devices.toml");
    std::fs::write(
        &devices,
        format!(
            "host = \"{}\"\nprinter = \"escpos:tcp:{}\"\nmagstripe = \"msr:serial:{}\"\njournal = \"{}\"\n",
            stage.host.addr(),
            stage.printer.endpoint(),
            msr.path(),
            stage.dir.0.join("journal.sqlite").display()
        ),
    )
    .expect("device file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pos"))
        .arg("--devices")
        .arg(&devices)
        .arg("--script")
        .arg(script("sale-magstripe.txt"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pos runs");
    let mut out = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let mut swiped = false;
    while lines.read_line(&mut line).expect("stdout") > 0 {
        if !swiped && line.contains("PresentCard") {
            swiped = true;
            let card = SwipeCard::builtin("unionpay-debit").expect("card");
            std::thread::sleep(Duration::from_millis(400));
            msr.swipe(&card, Framing::StxEtx).expect("swipe");
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
    assert!(child.wait().expect("exit").success(), "{out}\n{err}");
    assert!(swiped, "{out}");
    assert_eq!(stage.printer.jobs().len(), 2, "both slips");
}

#[test]
fn a_bad_device_file_is_refused_before_anything_opens() {
    let stage = Stage::new("devfile", "bad");
    let devices = stage.dir.0.join("devices.toml");
    std::fs::write(
        &devices,
        "host = \"127.0.0.1:1\"\nprinter = \"laser:lpt1\"\n",
    )
    .expect("file");
    let out = Command::new(env!("CARGO_BIN_EXE_pos"))
        .arg("--devices")
        .arg(&devices)
        .arg("--script")
        .arg(script("sale-swipe.txt"))
        .output()
        .expect("pos runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("printer") && err.contains("laser:lpt1"),
        "{err}"
    );
}
