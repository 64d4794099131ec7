//! `print-receipt` against the virtual printer over TCP and a serial pty.

use std::process::Command;

use pos_sim::printer::{Paper, VirtualPrinter};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_print-receipt"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn prints_both_slips_over_tcp_and_serial() {
    let tcp = VirtualPrinter::tcp(0, 384, None).expect("printer");
    let (code, out, err) = run(&["--printer", &format!("tcp:{}", tcp.endpoint()), "--drawer"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("printed merchant copy") && out.contains("printed cardholder copy"),
        "{out}"
    );
    assert_eq!(tcp.jobs().len(), 2);
    assert!(tcp.jobs()[0].transcript().contains("拉卡拉测试商户"));
    // The pulse is the last thing sent before print-receipt exits: the printer thread may still
    // be reading it.
    let start = std::time::Instant::now();
    while tcp.drawer_pulses().is_empty() && start.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(tcp.drawer_pulses().len(), 1);

    let pty = VirtualPrinter::pty(576, None).expect("printer");
    let (code, out, err) = run(&[
        "--printer",
        &format!("serial:{}:19200", pty.endpoint()),
        "--width",
        "80",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("printed cardholder copy"), "{out}");
    assert_eq!(pty.jobs().len(), 2);
}

#[test]
fn status_and_faults_give_clear_messages() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("printer");
    let target = format!("tcp:{}", vp.endpoint());
    let (code, out, _) = run(&["--printer", &target, "--status"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("paper: ok") && out.contains("ready: true"),
        "{out}"
    );
    vp.set_paper(Paper::Out);
    let (code, out, _) = run(&["--printer", &target, "--status"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("paper: OUT") && out.contains("ready: false"),
        "{out}"
    );
    let (code, _, err) = run(&["--printer", &target]);
    assert_eq!(code, 2);
    assert!(
        err.contains("NOT printed") && err.contains("load paper"),
        "{err}"
    );
    vp.set_paper(Paper::Ok);
    vp.set_cover_open(true);
    let (code, _, err) = run(&["--printer", &target]);
    assert_eq!(code, 2);
    assert!(err.contains("cover"), "{err}");
    let (code, _, err) = run(&["--printer", "tcp:127.0.0.1:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot open printer"), "{err}");
}

#[test]
fn registry_selectors_open_the_printer_and_bad_ones_name_themselves() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("printer");
    let selector = format!("escpos:tcp:{}", vp.endpoint());
    let (code, out, err) = run(&["--printer", &selector]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("printed cardholder copy"), "{out}");
    assert_eq!(vp.jobs().len(), 2);
    for bad in ["escpos:tcp:nohost", "lpt:1", "escpos:usb:xyz"] {
        let (code, _, err) = run(&["--printer", bad]);
        assert_eq!(code, 2, "{bad}");
        assert!(
            err.contains(bad) && err.contains("check the printer selector"),
            "{bad}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn every_binary_answers_version() {
    for bin in [
        env!("CARGO_BIN_EXE_print-receipt"),
        env!("CARGO_BIN_EXE_read-card"),
        env!("CARGO_BIN_EXE_devices"),
        env!("CARGO_BIN_EXE_iso8583"),
    ] {
        let out = Command::new(bin).arg("--version").output().expect("runs");
        assert!(out.status.success(), "{bin}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(env!("CARGO_PKG_VERSION")), "{bin}: {text}");
    }
}
