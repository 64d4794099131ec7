//! Scan-code payment through the runner: host-sim books it on the account behind the payment
//! code, the slips show the code masked, a code nobody issued is declined, and the code read
//! by a real serial scanner (the scanner emulator on a pty) pays too.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::Duration;

use common::{Stage, pos_command, script};
use pos_sim::scanner::{ScannerEmulator, UNIONPAY_CODE};

fn balance(stage: &Stage, pan: &str) -> i64 {
    let db = rusqlite::Connection::open(stage.dir.0.join("ledger.sqlite")).expect("ledger");
    db.query_row("SELECT balance FROM accounts WHERE pan = ?1", [pan], |r| {
        r.get(0)
    })
    .expect("account")
}

#[test]
fn a_scanned_payment_code_pays_from_its_account_and_the_slips_mask_it() {
    let stage = Stage::new("scan", "approved");
    let before = balance(&stage, "6212345678901232");
    let out = pos_command(
        "scan",
        &stage.host,
        &stage.printer,
        &stage.dir.0.join("journal.sqlite"),
        &script("scan.txt"),
    )
    .output()
    .expect("pos runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(balance(&stage, "6212345678901232"), before - 1200);
    let jobs = stage.printer.jobs();
    assert_eq!(jobs.len(), 2);
    let slip = jobs[0].transcript();
    assert!(
        slip.contains("付款码 PAYMENT CODE") && slip.contains("6225***********9012"),
        "{slip}"
    );
    assert!(slip.contains("扫码支付 SCAN PAY"), "{slip}");
    for shown in [slip.as_str(), &text, &String::from_utf8_lossy(&out.stderr)] {
        assert!(!shown.contains(UNIONPAY_CODE), "the payment code in clear");
    }
    // The journal keeps the code masked too (its file and its write-ahead log).
    let mut journal = Vec::new();
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", stage.dir.0.join("journal.sqlite").display());
        journal.extend(std::fs::read(path).unwrap_or_default());
    }
    assert!(!journal.is_empty());
    assert!(
        !journal
            .windows(UNIONPAY_CODE.len())
            .any(|w| w == UNIONPAY_CODE.as_bytes()),
        "the payment code in clear in the journal"
    );
    assert!(
        journal.windows(19).any(|w| w == b"6225***********9012"),
        "the masked code is journaled"
    );
}

#[test]
fn a_code_nobody_issued_is_declined_and_nothing_is_charged() {
    let stage = Stage::new("scan", "unknown");
    let s = stage.dir.0.join("unknown.txt");
    std::fs::write(
        &s,
        "keys 1200\nenter\nscan 6299999999999999999\nexpect screen Declined\nexpect contains 14\nenter\nexpect screen Done\n",
    )
    .expect("script");
    let out = pos_command(
        "scan",
        &stage.host,
        &stage.printer,
        &stage.dir.0.join("journal.sqlite"),
        &s,
    )
    .output()
    .expect("pos runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(stage.printer.jobs().is_empty());
}

#[test]
fn the_code_read_by_a_serial_scanner_pays() {
    let stage = Stage::new("scan", "scanner");
    let scanner = ScannerEmulator::start().expect("scanner emulator");
    let mut child = pos_command(
        "scan",
        &stage.host,
        &stage.printer,
        &stage.dir.0.join("journal.sqlite"),
        &script("scan-scanner.txt"),
    )
    .arg("--scanner")
    .arg(format!("scanner:serial:{}", scanner.path()))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("pos runs");
    let mut out = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let mut scanned = false;
    while lines.read_line(&mut line).expect("stdout") > 0 {
        if !scanned && line.starts_with("--- ScanCode") {
            scanned = true;
            std::thread::sleep(Duration::from_millis(400));
            scanner.scan(UNIONPAY_CODE).expect("scan");
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
    assert_eq!(stage.printer.jobs().len(), 2);
}

/// Runs `pos --flow scan-qr` with `script`; once the QR shows, `customer` gets the order id
/// (the last path segment of the payload). Returns (exit ok, stdout).
fn scan_qr(
    stage: &Stage,
    script_path: &std::path::Path,
    customer: impl FnOnce(&str),
) -> (bool, String) {
    let mut child = pos_command(
        "scan-qr",
        &stage.host,
        &stage.printer,
        &stage.dir.0.join("journal.sqlite"),
        script_path,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("pos runs");
    let mut out = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let mut customer = Some(customer);
    while lines.read_line(&mut line).expect("stdout") > 0 {
        if let Some(order) = line
            .trim()
            .strip_prefix(pos_sim::acquirer::orders::qr_payload("").as_str())
            && let Some(pay) = customer.take()
        {
            pay(order);
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
    out.push_str(&err);
    (child.wait().expect("exit").success(), out)
}

#[test]
fn the_customer_pays_the_terminals_qr_and_the_sale_is_booked_once() {
    let stage = Stage::new("scan", "qr");
    let before = balance(&stage, "6212345678901232");
    let ledger = stage.dir.0.join("ledger.sqlite");
    let (ok, out) = scan_qr(&stage, &script("scan-qr.txt"), |order| {
        // The customer takes a moment: the terminal asks at least once in vain.
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            pos_sim::acquirer::orders::pay_order(&ledger, order, UNIONPAY_CODE).expect("pay"),
            "the order was open"
        );
    });
    assert!(ok, "{out}");
    assert!(
        out.matches("--- ShowQr").count() >= 2,
        "asked again while unpaid: {out}"
    );
    assert_eq!(
        balance(&stage, "6212345678901232"),
        before - 500,
        "charged once"
    );
    let jobs = stage.printer.jobs();
    assert_eq!(jobs.len(), 2);
    let slip = jobs[0].transcript();
    assert!(
        slip.contains("订单号 ORDER NO.") && slip.contains("RMB 5.00"),
        "{slip}"
    );
}

#[test]
fn cancel_while_the_qr_shows_closes_the_order_and_a_late_payment_is_refused() {
    let stage = Stage::new("scan", "qr-cancel");
    let ledger = stage.dir.0.join("ledger.sqlite");
    let s = stage.dir.0.join("cancel.txt");
    std::fs::write(
        &s,
        "keys 500\nenter\ncancel\nexpect screen Ended\nexpect contains cancelled\n",
    )
    .expect("script");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let keep = std::sync::Arc::clone(&seen);
    let (ok, out) = scan_qr(&stage, &s, move |order| {
        *keep.lock().expect("lock") = order.to_string();
    });
    assert!(ok, "{out}");
    let order = seen.lock().expect("lock").clone();
    assert!(!order.is_empty(), "{out}");
    assert!(
        !pos_sim::acquirer::orders::pay_order(&ledger, &order, UNIONPAY_CODE).expect("pay"),
        "a closed order cannot be paid"
    );
    assert!(stage.printer.jobs().is_empty());
}

#[test]
fn a_scan_payment_is_reprinted_with_its_code_masked() {
    let stage = Stage::new("scan", "reprint");
    let journal = stage.dir.0.join("journal.sqlite");
    let out = pos_command(
        "scan",
        &stage.host,
        &stage.printer,
        &journal,
        &script("scan.txt"),
    )
    .output()
    .expect("pos runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = pos_command(
        "reprint",
        &stage.host,
        &stage.printer,
        &journal,
        &script("reprint-last.txt"),
    )
    .output()
    .expect("pos runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let jobs = stage.printer.jobs();
    let reprint = jobs.last().expect("reprint").transcript();
    assert!(
        reprint.contains("重打印 REPRINT")
            && reprint.contains("扫码支付 SCAN PAY")
            && reprint.contains("6225***********9012"),
        "{reprint}"
    );
    assert!(!reprint.contains(UNIONPAY_CODE));
}
