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
