//! The USB transport through the real Linux USB stack, inside the QEMU USB rig
//! (`cargo xtask usb-hil test -p pos-escpos`): an Epson-like printer gadget (04b8:0e15,
//! class 7/1/2) on dummy_hcd, bound to usblp, served by pos-sim's virtual printer on the gadget
//! side. Outside the rig every test says it is skipped, and why.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use pos_escpos::transport::UsbTransport;
use pos_escpos::{EscposPrinter, Profile, discover};
use pos_hal::{Amount, CancelToken, Error as _, ErrorKind, Receipt, ReceiptPrinter};
use pos_sim::printer::{ControlCommand, Paper, PrinterControl};
use pos_terminal::slip::{Copy, SaleSlip};

const GADGET_DEV: &str = "/dev/g_printer0";
/// The device side: `sim-printer` serving the gadget, started by the guest init.
const CONTROL: &str = "127.0.0.1:9911";
const EPSON: (u16, u16) = (0x04b8, 0x0e15);

/// One gadget: the tests take turns.
static RIG: Mutex<()> = Mutex::new(());

/// The kernel driver bound to the printer's interface, and its /dev/usb/lpN node, by lookup.
fn kernel_binding() -> (Option<String>, Option<String>) {
    let mut driver = None;
    if let Ok(entries) = std::fs::read_dir("/sys/bus/usb/devices") {
        for e in entries.flatten() {
            let p = e.path();
            let class = std::fs::read_to_string(p.join("bInterfaceClass")).unwrap_or_default();
            if class.trim() == "07" {
                driver = std::fs::read_link(p.join("driver"))
                    .ok()
                    .and_then(|l| l.file_name().map(|f| f.to_string_lossy().into_owned()));
            }
        }
    }
    let lp = std::fs::read_dir("/dev/usb").ok().and_then(|d| {
        d.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.starts_with("lp"))
    });
    (driver, lp)
}

fn wait_for_usblp() -> (Option<String>, Option<String>) {
    let start = Instant::now();
    loop {
        let b = kernel_binding();
        if (b.0.as_deref() == Some("usblp") && b.1.is_some())
            || start.elapsed() > Duration::from_secs(5)
        {
            return b;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn slip() -> SaleSlip {
    SaleSlip {
        voucher: 7,
        amount: Amount::from_minor(12_345).expect("amount"),
        ..SaleSlip::sample()
    }
}

/// The gadget-side printer, reset to healthy with its job list as it is now.
fn gadget() -> (PrinterControl, usize) {
    let mut c =
        PrinterControl::connect(CONTROL, Duration::from_secs(5)).expect("sim-printer control port");
    c.command(ControlCommand::Clear).expect("clear");
    let before = c.jobs().expect("jobs").len();
    (c, before)
}

#[test]
#[ignore = "needs the QEMU USB rig: run by `cargo xtask usb-hil test`"]
fn rig_found_by_ids_and_by_class_detached_claimed_and_given_back() {
    pos_sim::require_usb_rig(GADGET_DEV);
    let _rig = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let (driver, lp) = wait_for_usblp();
    assert_eq!(
        driver.as_deref(),
        Some("usblp"),
        "usblp owns the printer before we claim it"
    );
    let found = discover();
    let selectors: Vec<&str> = found.iter().map(|d| d.selector.as_str()).collect();
    // The gadget's iSerialNumber is part of the selector, so that one of several identical
    // printers can be named.
    assert!(
        selectors.contains(&"escpos:usb:04b8:0e15:HIL0003"),
        "{selectors:?}"
    );
    let lp = lp.expect("a /dev/usb/lpN node");
    assert!(
        selectors.contains(&format!("escpos:file:/dev/usb/{lp}").as_str()),
        "{selectors:?}"
    );

    let mut by_ids = UsbTransport::open(Some(EPSON)).expect("open by VID:PID");
    assert_eq!(
        kernel_binding().0.as_deref(),
        Some("usbfs"),
        "usblp detached, the interface is ours (usbfs)"
    );
    let id = by_ids.device_id().expect("GET_DEVICE_ID");
    assert!(id.starts_with("MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II"), "{id}");
    drop(by_ids);
    assert_eq!(
        wait_for_usblp().0.as_deref(),
        Some("usblp"),
        "usblp re-attached on drop"
    );

    let by_class = UsbTransport::open(None).expect("open the first printer-class device");
    drop(by_class);
    assert_eq!(wait_for_usblp().0.as_deref(), Some("usblp"));
}

#[test]
#[ignore = "needs the QEMU USB rig: run by `cargo xtask usb-hil test`"]
fn rig_both_slips_by_bulk_out_with_status_by_bulk_in() {
    pos_sim::require_usb_rig(GADGET_DEV);
    let _rig = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let (mut vp, before) = gadget();
    let wrong = EscposPrinter::open("usb:04b8:0e15:NOSUCH", Profile::MM58).err();
    assert_eq!(
        wrong.map(|e| e.kind()),
        Some(ErrorKind::NoDevice),
        "another serial number is another printer"
    );
    let mut printer =
        EscposPrinter::open("usb:04b8:0e15:HIL0003", Profile::MM58).expect("open by serial");
    assert!(
        printer
            .status(&CancelToken::new())
            .expect("DLE EOT over bulk IN")
            .ready()
    );
    for copy in [Copy::Merchant, Copy::Cardholder] {
        let layout = slip().layout(copy);
        let lines = layout.lines();
        let job = printer
            .print(&Receipt::new(&lines), &CancelToken::new())
            .expect("printed over USB");
        assert!(job.bytes_sent > 500);
    }
    let jobs = vp.jobs().expect("jobs");
    let jobs = &jobs[before..];
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j.complete));
    assert!(
        jobs[0].transcript.contains("拉卡拉测试商户"),
        "{}",
        jobs[0].transcript
    );
    assert!(jobs[0].transcript.contains("持卡人签名"));
    assert!(jobs[1].transcript.contains("RMB 123.45"));
    drop(printer);
    assert_eq!(wait_for_usblp().0.as_deref(), Some("usblp"));
}

#[test]
#[ignore = "needs the QEMU USB rig: run by `cargo xtask usb-hil test`"]
fn rig_paper_out_is_reported_and_the_job_not_printed() {
    pos_sim::require_usb_rig(GADGET_DEV);
    let _rig = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let (mut vp, before) = gadget();
    let mut printer = EscposPrinter::open("usb:04b8:0e15", Profile::MM58).expect("open");
    printer.job_timeout = Duration::from_secs(3);
    let layout = slip().layout(Copy::Merchant);
    let lines = layout.lines();
    vp.command(ControlCommand::Paper(Paper::Out))
        .expect("fault");
    assert_eq!(
        printer
            .print(&Receipt::new(&lines), &CancelToken::new())
            .expect_err("no paper")
            .kind(),
        ErrorKind::PaperOut
    );
    vp.command(ControlCommand::Paper(Paper::Ok)).expect("fault");
    vp.command(ControlCommand::PaperOutAfterLines(Some(6)))
        .expect("fault");
    assert_eq!(
        printer
            .print(&Receipt::new(&lines), &CancelToken::new())
            .expect_err("ran out")
            .kind(),
        ErrorKind::PaperOut
    );
    let jobs = vp.jobs().expect("jobs");
    assert!(
        jobs[before..].iter().all(|j| !j.complete),
        "nothing complete was printed"
    );
    vp.command(ControlCommand::Clear).expect("clear");
}

#[test]
#[ignore = "needs the QEMU USB rig: run by `cargo xtask usb-hil test`"]
fn rig_unplug_mid_job_is_disconnected_and_not_printed() {
    pos_sim::require_usb_rig(GADGET_DEV);
    let _rig = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let (mut vp, before) = gadget();
    let mut printer = EscposPrinter::open("usb:04b8:0e15", Profile::MM58).expect("open");
    printer.write_timeout = Duration::from_secs(3);
    vp.command(ControlCommand::DropAfterBytes(Some(200)))
        .expect("fault");
    let layout = slip().layout(Copy::Merchant);
    let lines = layout.lines();
    let err = printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect_err("unplugged");
    assert!(
        matches!(err.kind(), ErrorKind::Disconnected | ErrorKind::Timeout),
        "{err} ({:?})",
        err.kind()
    );
    assert_eq!(
        vp.jobs().expect("jobs").len(),
        before,
        "the job was not printed"
    );
    vp.command(ControlCommand::Replug).expect("plug back in");
    // The driver finds the device again by itself.
    let start = Instant::now();
    let job = loop {
        match printer.print(&Receipt::new(&lines), &CancelToken::new()) {
            Ok(job) => break job,
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("not back after re-plug: {e}"),
        }
    };
    assert!(job.bytes_sent > 500);
    assert_eq!(vp.jobs().expect("jobs").len(), before + 1);
}
