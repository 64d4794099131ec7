//! pos-scanner through a real pty against the scanner emulator: the OS serial stack, the
//! framing, stale scans, noise, slow lines, deadline and cancel.

use std::sync::Arc;
use std::time::Duration;

use pos_hal::{CancelToken, CodeScanner, Error as _, ErrorKind};
use pos_scanner::{SerialScanner, Suffix, open_serial};
use pos_sim::scanner::{ALIPAY_CODE, ScannerEmulator, UNIONPAY_CODE};

fn setup() -> (
    Arc<ScannerEmulator>,
    SerialScanner<pos_io::serial::SerialTransport>,
) {
    let sim = ScannerEmulator::start().expect("emulator");
    let scanner = open_serial(sim.path(), 9600).expect("scanner opens");
    (Arc::new(sim), scanner)
}

/// Runs `device_side` on the emulator once the driver waits.
fn later(
    sim: &Arc<ScannerEmulator>,
    device_side: impl FnOnce(&ScannerEmulator) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let sim = Arc::clone(sim);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        device_side(&sim);
    })
}

#[test]
fn a_code_scanned_after_the_request_is_read_whole() {
    let (sim, mut scanner) = setup();
    let t = later(&sim, |s| s.scan(UNIONPAY_CODE).expect("scan"));
    let code = scanner
        .read_code(Duration::from_secs(5), &CancelToken::new())
        .expect("code");
    t.join().expect("scanner thread");
    assert_eq!(code.as_str(), UNIONPAY_CODE);
    assert!(
        !format!("{code:?}").contains(UNIONPAY_CODE),
        "Debug shows the code"
    );
}

#[test]
fn a_code_scanned_before_the_request_is_not_taken() {
    let (sim, mut scanner) = setup();
    sim.scan(ALIPAY_CODE).expect("stale scan");
    std::thread::sleep(Duration::from_millis(100));
    let t = later(&sim, |s| s.scan(UNIONPAY_CODE).expect("scan"));
    let code = scanner
        .read_code(Duration::from_secs(5), &CancelToken::new())
        .expect("code");
    t.join().expect("scanner thread");
    assert_eq!(code.as_str(), UNIONPAY_CODE);
}

#[test]
fn a_slow_line_still_gives_the_whole_code() {
    let (sim, mut scanner) = setup();
    let t = later(&sim, |s| {
        s.trickle(ALIPAY_CODE, Duration::from_millis(15))
            .expect("trickle")
    });
    let code = scanner
        .read_code(Duration::from_secs(5), &CancelToken::new())
        .expect("code");
    t.join().expect("thread");
    assert_eq!(code.as_str(), ALIPAY_CODE);
}

#[test]
fn an_escape_sequence_is_refused_not_returned() {
    let (sim, mut scanner) = setup();
    let t = later(&sim, |s| s.send(b"62\x1b]0;owned\x07\r\n").expect("send"));
    let err = scanner
        .read_code(Duration::from_secs(5), &CancelToken::new())
        .expect_err("not a code");
    t.join().expect("thread");
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[test]
fn no_scan_is_a_timeout_and_cancel_stops_the_wait() {
    let (_sim, mut scanner) = setup();
    let err = scanner
        .read_code(Duration::from_millis(200), &CancelToken::new())
        .expect_err("nothing scanned");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let cancel = std::sync::Arc::new(CancelToken::new());
    let c = std::sync::Arc::clone(&cancel);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        c.cancel();
    });
    let err = scanner
        .read_code(Duration::from_secs(30), &cancel)
        .expect_err("cancelled");
    t.join().expect("thread");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
}

#[test]
fn a_tab_suffixed_scanner_with_an_aim_prefix() {
    let (sim, scanner) = setup();
    let mut scanner = scanner.with_suffix(Suffix::Tab).with_prefix(b"]Q1");
    let t = later(&sim, |s| {
        s.send(format!("]Q1{UNIONPAY_CODE}\t").as_bytes())
            .expect("send")
    });
    let code = scanner
        .read_code(Duration::from_secs(5), &CancelToken::new())
        .expect("code");
    t.join().expect("thread");
    assert_eq!(code.as_str(), UNIONPAY_CODE);
}
