//! The terminal's own functions through the runner on the real host link, journal and
//! printer transport: power-on with sign-in as screens (and its failures explained), the
//! device self-check with a printed report, the network check, the records query, and the
//! journal's export and import.

mod common;

use std::process::Command;

use common::{Stage, pos_command, script};

fn run(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("pos runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn flow(stage: &Stage, flow: &str, script: &std::path::Path) -> Command {
    pos_command(
        flow,
        &stage.host,
        &stage.printer,
        &stage.dir.0.join("journal.sqlite"),
        script,
    )
}

fn inline(stage: &Stage, name: &str, text: &str) -> std::path::PathBuf {
    let path = stage.dir.0.join(name);
    std::fs::write(&path, text).expect("script");
    path
}

#[test]
fn power_on_checks_the_devices_then_signs_in_on_a_key() {
    let stage = Stage::new("admin", "startup");
    let (code, out, err) = run(flow(&stage, "startup", &script("startup.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    // Signed out until the key: the device check comes before any sign-in line.
    assert!(!out.contains("=== signed in"), "{out}");
    // The power-on signed in for real: a sale goes through on the same journal.
    let (code, out, err) = run(flow(&stage, "sale", &script("sale-swipe.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn a_refused_sign_in_says_why_and_what_to_do_and_can_be_tried_again() {
    let stage = Stage::new("admin", "startup-refused");
    let mut cmd = flow(&stage, "startup", &script("startup-refused.txt"));
    cmd.args(["--terminal-id", "87654321"]);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        out.matches("--- SigningIn").count(),
        2,
        "two attempts: {out}"
    );
}

#[test]
fn a_host_that_cannot_be_reached_at_power_on_is_said_with_what_to_check() {
    let stage = Stage::new("admin", "startup-down");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let s = inline(
        &stage,
        "down.txt",
        "enter\nexpect screen SignInFailed\nexpect contains (NET)\nexpect contains cannot be reached\nexpect contains check the network cable\ncancel\nexpect screen Ended\n",
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pos"));
    cmd.args(["--flow", "startup", "--host", &dead, "--journal"])
        .arg(stage.dir.0.join("journal.sqlite"))
        .arg("--script")
        .arg(&s);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains(&dead), "stderr names the address: {err}");
}

#[test]
fn the_self_check_report_is_printed_and_names_a_printer_out_of_paper() {
    let stage = Stage::new("admin", "self-check");
    let (code, out, err) = run(flow(&stage, "self-check", &script("self-check.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    let jobs = stage.printer.jobs();
    assert_eq!(jobs.len(), 1);
    let report = jobs[0].transcript();
    for line in [
        "自检单",
        "打印机 PRINTER: 正常 OK",
        "3/3 应答 ANSWERED",
        "ALL OK",
    ] {
        assert!(report.contains(line), "{line}: {report}");
    }

    stage.printer.set_paper(pos_sim::printer::Paper::Out);
    let s = inline(
        &stage,
        "paper-out.txt",
        "cancel\nexpect screen SelfCheckReport\nexpect contains FAULTS FOUND\nexpect contains 打印机 PRINTER: 故障 FAULT\nenter\nexpect screen ReportPrinterProblem\ncancel\nexpect screen Done\n",
    );
    let (code, out, err) = run(flow(&stage, "self-check", &s));
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        stage.printer.jobs().len(),
        1,
        "nothing printed without paper"
    );
}

#[test]
fn the_network_check_times_three_echoes_and_a_silent_host_is_said_plainly() {
    let stage = Stage::new("admin", "network");
    let (code, out, err) = run(flow(&stage, "network", &script("network.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    // The network check needs no sign-in (it is what an operator runs when sign-in fails):
    // a host that hangs up on every connection is named as unreachable.
    stage
        .host
        .faults()
        .drop
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let s = inline(
        &stage,
        "silent.txt",
        "expect screen SelfCheckReport\nexpect contains NO ANSWER (3)\nexpect contains cannot be reached\nenter\n",
    );
    let (code, out, err) = run(flow(&stage, "network", &s));
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn the_records_query_shows_the_batch_newest_first_with_cards_masked() {
    let stage = Stage::new("admin", "records");
    let (code, out, err) = run(flow(&stage, "sale", &script("sale-swipe.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = run(flow(&stage, "sale", &script("sale-declined.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    let s = inline(
        &stage,
        "records.txt",
        "expect screen Record\nexpect contains RECORDS 1/2\nexpect contains 拒绝 DECLINED 51\nenter\nexpect contains RECORDS 2/2\nexpect contains 成功 APPROVED\nexpect contains 621234******1232\nclear\nexpect contains RECORDS 1/2\ncancel\nexpect screen Done\n",
    );
    let (code, out, err) = run(flow(&stage, "records", &s));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !out.contains("6212345678901232"),
        "a clear card number: {out}"
    );
}

#[test]
fn an_empty_batch_has_no_records_to_show() {
    let stage = Stage::new("admin", "no-records");
    let s = inline(
        &stage,
        "none.txt",
        "expect screen NoRecords\nenter\nexpect screen Done\n",
    );
    let (code, out, err) = run(flow(&stage, "records", &s));
    assert_eq!(code, 0, "{out}\n{err}");
}

fn backup(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pos-backup"));
    cmd.args(args);
    run(cmd)
}

#[test]
fn a_backup_restores_the_journal_and_device_file_and_a_bad_one_changes_nothing() {
    let stage = Stage::new("admin", "backup");
    let journal = stage.dir.0.join("journal.sqlite");
    let devices = stage.dir.0.join("devices.toml");
    std::fs::write(&devices, "host = \"127.0.0.1:5000\"\n").expect("device file");
    let (code, out, err) = run(flow(&stage, "sale", &script("sale-swipe.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    let to = stage.dir.0.join("backup");
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let export = [
        os("export"),
        os("--journal"),
        journal.as_os_str(),
        os("--devices"),
        devices.as_os_str(),
        os("--to"),
        to.as_os_str(),
    ];
    let (code, out, err) = backup(&export);
    assert_eq!(code, 0, "{out}\n{err}");
    // A second export into the same place is refused: a backup is never overwritten.
    let (code, _, err) = backup(&export);
    assert_eq!(code, 2);
    assert!(err.contains("never overwrites"), "{err}");

    // Another sale, and the device file changed; then the backup is restored.
    let (code, out, err) = run(flow(&stage, "sale", &script("sale-swipe.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    std::fs::write(&devices, "host = \"10.0.0.1:5000\"\n").expect("device file");
    let import = [
        os("import"),
        os("--from"),
        to.as_os_str(),
        os("--journal"),
        journal.as_os_str(),
        os("--devices"),
        devices.as_os_str(),
    ];
    let (code, out, err) = backup(&import);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        std::fs::read_to_string(&devices)
            .expect("device file")
            .contains("127.0.0.1:5000")
    );
    let one = inline(
        &stage,
        "one.txt",
        "expect screen Record\nexpect contains RECORDS 1/1\nexpect contains VOUCHER 000001\ncancel\n",
    );
    let (code, out, err) = run(flow(&stage, "records", &one));
    assert_eq!(code, 0, "{out}\n{err}");

    // A backup whose journal is damaged is refused and the journal stays as it is.
    let bad = stage.dir.0.join("bad");
    std::fs::create_dir_all(&bad).expect("dir");
    std::fs::write(bad.join("journal.sqlite"), vec![0x42; 4096]).expect("garbage");
    let (code, _, err) = backup(&[
        os("import"),
        os("--from"),
        bad.as_os_str(),
        os("--journal"),
        journal.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not a sound journal"), "{err}");
    let (code, out, err) = backup(&[os("check"), os("--journal"), journal.as_os_str()]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = run(flow(&stage, "records", &one));
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn a_cashier_the_supervisor_adds_logs_in_and_changes_their_password_across_restarts() {
    let stage = Stage::new("admin", "operators");
    let (code, out, err) = run(flow(&stage, "operators", &script("operators.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!out.contains("2468"), "a password shown: {out}");
    let login = |password: &str| {
        format!(
            "keys 07\nenter\nkeys {password}\nenter\nexpect screen LoggedIn\nexpect contains 07\n"
        )
    };
    let s = inline(&stage, "login.txt", &login("2468"));
    let (code, out, err) = run(flow(&stage, "login", &s));
    assert_eq!(code, 0, "{out}\n{err}");
    let s = inline(
        &stage,
        "password.txt",
        "keys 2468\nenter\nkeys 8642\nenter\nkeys 8642\nenter\nexpect screen OperatorChanged\nenter\nexpect screen Done\n",
    );
    let mut cmd = flow(&stage, "password", &s);
    cmd.args(["--operator", "07"]);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{out}\n{err}");
    let s = inline(&stage, "login-new.txt", &login("8642"));
    let (code, out, err) = run(flow(&stage, "login", &s));
    assert_eq!(code, 0, "{out}\n{err}");
    // A wrong supervisor password changes nothing and is counted like a login.
    let s = inline(
        &stage,
        "bad-supervisor.txt",
        "keys 654321\nenter\nexpect screen OperatorRefused\nexpect contains 2 tries left\nenter\nexpect screen Done\n",
    );
    let (code, out, err) = run(flow(&stage, "operators", &s));
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn a_voided_sale_reads_back_voided_in_the_records_and_the_settlement_list() {
    let stage = Stage::new("admin", "voided");
    let (code, out, err) = run(flow(&stage, "sale", &script("sale-swipe.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = run(flow(&stage, "void", &script("void.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    let s = inline(
        &stage,
        "voided.txt",
        "expect screen Record\nexpect contains 消费撤销 VOID\nexpect contains 成功 APPROVED\nenter\nexpect contains 消费 SALE\nexpect contains 已撤销 VOIDED\ncancel\n",
    );
    let (code, out, err) = run(flow(&stage, "records", &s));
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = run(flow(&stage, "settle", &script("settle.txt")));
    assert_eq!(code, 0, "{out}\n{err}");
    let list = stage.printer.jobs().last().expect("list").transcript();
    assert!(list.contains("已撤销 VOIDED"), "{list}");
}
