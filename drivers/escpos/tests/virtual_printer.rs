//! pos-escpos against the virtual ESC/POS printer of pos-sim over TCP, a serial pty and a file.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pos_escpos::{DRAWER_PULSE, EscposError, EscposPrinter, Profile, encode_receipt};
use pos_hal::{
    CancelToken, Device, Error as _, ErrorKind, HealthLevel, HealthStatus, PaperState, Receipt,
    ReceiptPrinter,
};
use pos_sim::printer::render::ink_rows;
use pos_sim::printer::{Paper, VirtualPrinter};
use pos_terminal::slip::{Copy, SaleSlip};

fn slip() -> SaleSlip {
    SaleSlip::sample()
}

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn print_both(printer: &mut EscposPrinter) {
    for copy in [Copy::Merchant, Copy::Cardholder] {
        let layout = slip().layout(copy);
        let lines = layout.lines();
        let job = printer
            .print(&Receipt::new(&lines), &CancelToken::new())
            .expect("printed");
        assert!(job.bytes_sent > 200);
        assert!(job.status_after.is_some_and(|s| s.ready()));
    }
}

fn check_slips(vp: &VirtualPrinter, width: u32) {
    let jobs = vp.jobs();
    assert_eq!(jobs.len(), 2, "two slips");
    for (job, merchant) in jobs.iter().zip([true, false]) {
        let text = job.transcript();
        assert!(job.complete);
        assert!(text.contains("银联 POS 签购单"), "{text}");
        assert!(text.contains("拉卡拉测试商户（北京）有限公司"), "{text}");
        assert!(text.contains("621234******1232 插卡 I"), "{text}");
        assert!(!text.contains("6212345678901232"), "PAN in clear: {text}");
        assert!(text.contains("RMB 50.00"), "{text}");
        assert!(
            text.contains("000000000042") && text.contains("654321"),
            "{text}"
        );
        assert!(text.contains("[QR REF:000000000042 AUTH:654321]"), "{text}");
        assert_eq!(
            text.contains("持卡人签名"),
            merchant,
            "signature line only on the merchant copy"
        );
        assert!(text.contains(if merchant {
            "商户存根"
        } else {
            "持卡人存根"
        }));
        let png = job.png.as_ref().expect("rendered");
        let (w, h, inked) = ink_rows(png).expect("png");
        assert_eq!(w, width);
        assert!(h > 600, "height {h}");
        assert!(inked > 300, "only {inked} rows have ink");
    }
    assert!(vp.log().is_empty(), "unknown commands: {:?}", vp.log());
}

#[test]
fn both_slips_over_tcp_render_to_png() {
    let dir = out_dir("tcp-slips");
    let vp = VirtualPrinter::tcp(0, 384, Some(dir.clone())).expect("virtual printer");
    let mut printer = EscposPrinter::open(
        &format!(
            "tcp:localhost:{}",
            vp.endpoint().rsplit(':').next().unwrap_or("0")
        ),
        Profile::MM58,
    )
    .expect("open by host name");
    print_both(&mut printer);
    check_slips(&vp, 384);
}

#[test]
fn both_slips_over_a_serial_pty() {
    let dir = out_dir("pty-slips");
    let vp = VirtualPrinter::pty(576, Some(dir)).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("serial:{}:115200", vp.endpoint()), Profile::MM80)
            .expect("open pty");
    print_both(&mut printer);
    check_slips(&vp, 576);
}

#[test]
fn status_in_every_fault_state_and_refused_jobs() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    let s = printer.status(&CancelToken::new()).expect("status");
    assert!(s.ready() && s.paper == PaperState::Ok);
    vp.set_paper(Paper::NearEnd);
    assert_eq!(
        printer.status(&CancelToken::new()).expect("status").paper,
        PaperState::NearEnd
    );
    let report = printer.health_check(HealthLevel::Internal).expect("health");
    assert_eq!(report.status, HealthStatus::Degraded);
    vp.set_paper(Paper::Out);
    let s = printer.status(&CancelToken::new()).expect("status");
    assert_eq!((s.paper, s.online), (PaperState::Out, false));
    let layout = slip().layout(Copy::Cardholder);
    let lines = layout.lines();
    let err = printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect_err("no paper");
    assert_eq!(err.kind(), ErrorKind::PaperOut);
    vp.set_paper(Paper::Ok);
    vp.set_cover_open(true);
    assert!(
        printer
            .status(&CancelToken::new())
            .expect("status")
            .cover_open
    );
    assert_eq!(
        printer
            .print(&Receipt::new(&lines), &CancelToken::new())
            .expect_err("cover")
            .kind(),
        ErrorKind::CoverOpen
    );
    vp.set_cover_open(false);
    vp.set_offline(true);
    assert!(!printer.status(&CancelToken::new()).expect("status").online);
    assert!(matches!(
        printer.print(&Receipt::new(&lines), &CancelToken::new()),
        Err(EscposError::Offline)
    ));
    vp.clear_faults();
    assert!(vp.jobs().is_empty(), "refused jobs never reach the paper");
    printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect("prints again");
    assert_eq!(vp.jobs().len(), 1);
}

#[test]
fn paper_out_mid_job_is_reported_as_not_printed() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    printer.job_timeout = Duration::from_secs(3);
    vp.paper_out_after_lines(Some(5));
    let layout = slip().layout(Copy::Merchant);
    let lines = layout.lines();
    let err = printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect_err("paper ran out");
    assert_eq!(err.kind(), ErrorKind::PaperOut, "{err}");
    let jobs = vp.jobs();
    assert_eq!(jobs.len(), 1);
    assert!(!jobs[0].complete, "the printer stopped mid-job");
    vp.set_paper(Paper::Ok);
    printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect("reprinted after new paper");
    assert!(vp.jobs().last().is_some_and(|j| j.complete));
}

#[test]
fn status_blocks_and_stray_bytes_never_make_a_stopped_job_look_printed() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    printer.job_timeout = Duration::from_secs(3);
    let layout = slip().layout(Copy::Merchant);
    let lines = layout.lines();
    // A chatty printer: ASB blocks and stray bytes while it prints, then paper runs out.
    vp.set_noise(true);
    vp.paper_out_after_lines(Some(5));
    let err = printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect_err("the job stopped for paper");
    assert_eq!(err.kind(), ErrorKind::PaperOut, "{err}");
    assert!(!vp.jobs()[0].complete, "the printer stopped mid-job");
    // With paper, the same chatter does not stop a good job from being confirmed.
    vp.set_paper(Paper::Ok);
    printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect("printed despite the chatter");
    assert!(vp.jobs().last().is_some_and(|j| j.complete));
}

#[test]
fn connection_dropped_mid_job_then_reconnect() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    vp.drop_after_bytes(Some(300));
    let layout = slip().layout(Copy::Merchant);
    let lines = layout.lines();
    let err = printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect_err("dropped");
    assert!(
        matches!(err.kind(), ErrorKind::Disconnected | ErrorKind::Timeout),
        "{err}"
    );
    assert!(vp.jobs().is_empty(), "no job was printed");
    let job = printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect("reconnects and prints");
    assert!(job.bytes_sent > 300);
    assert_eq!(vp.jobs().len(), 1);
}

#[test]
fn stalled_printer_times_out() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    printer.status_timeout = Duration::from_millis(300);
    vp.set_stall(true);
    let err = printer.status(&CancelToken::new()).expect_err("stalled");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    vp.set_stall(false);
    assert!(
        printer
            .status(&CancelToken::new())
            .expect("answers again")
            .ready()
    );
}

#[test]
fn drawer_pulse_is_exactly_five_bytes() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    printer.open_drawer().expect("drawer");
    // A status query right after must still be answered (a 3-byte pulse would eat it).
    assert!(
        printer
            .status(&CancelToken::new())
            .expect("status after drawer")
            .ready()
    );
    assert_eq!(vp.drawer_pulses(), vec![DRAWER_PULSE.to_vec()]);
}

#[test]
fn file_transport_writes_the_job_and_has_no_status() {
    let dir = out_dir("file");
    let path = dir.join("job.bin");
    let mut printer =
        EscposPrinter::open(&format!("file:{}", path.display()), Profile::MM58).expect("open");
    let layout = slip().layout(Copy::Cardholder);
    let lines = layout.lines();
    let job = printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect("written");
    assert_eq!(job.status_after, None);
    let written = std::fs::read(&path).expect("file");
    assert_eq!(
        written,
        encode_receipt(&Receipt::new(&lines), Profile::MM58).expect("encode")
    );
    assert_eq!(
        printer
            .status(&CancelToken::new())
            .expect_err("no status")
            .kind(),
        ErrorKind::NotSupported
    );
    assert!(matches!(
        EscposPrinter::open("lpt:1", Profile::MM58),
        Err(EscposError::Selector(_))
    ));
    assert_eq!(
        EscposPrinter::open("tcp:127.0.0.1:1", Profile::MM58)
            .expect_err("refused")
            .kind(),
        ErrorKind::NoDevice
    );
}

#[test]
fn health_check_prints_the_self_test_page() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    let internal = printer
        .health_check(HealthLevel::Internal)
        .expect("internal");
    assert_eq!(internal.status, HealthStatus::Ok);
    assert!(vp.jobs().is_empty(), "the internal check prints nothing");
    let external = printer
        .health_check(HealthLevel::External)
        .expect("external");
    assert_eq!(external.status, HealthStatus::Ok, "{external:?}");
    let jobs = vp.jobs();
    assert_eq!(jobs.len(), 1);
    assert!(
        jobs[0]
            .transcript()
            .contains("打印机自检 PRINTER SELF-TEST"),
        "{}",
        jobs[0].transcript()
    );
    vp.set_cover_open(true);
    let failed = printer
        .health_check(HealthLevel::External)
        .expect("report, not error");
    assert_eq!(failed.status, HealthStatus::Failed);
    assert!(failed.detail.as_str().contains("cover"), "{failed:?}");
    assert_eq!(vp.jobs().len(), 1, "nothing printed with the cover open");
}

#[test]
fn a_cancelled_job_is_not_printed_and_the_printer_stays_usable() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    let layout = slip().layout(Copy::Merchant);
    let lines = layout.lines();
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = printer
        .print(&Receipt::new(&lines), &cancel)
        .expect_err("cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    let err = printer.status(&cancel).expect_err("cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(vp.jobs().is_empty(), "nothing reached the paper");
    printer
        .print(&Receipt::new(&lines), &CancelToken::new())
        .expect("prints afterwards");
    assert_eq!(vp.jobs().len(), 1);
}

#[test]
fn a_printer_that_never_stops_talking_cannot_hold_the_caller() {
    let vp = VirtualPrinter::tcp(0, 384, None).expect("virtual printer");
    let mut printer =
        EscposPrinter::open(&format!("tcp:{}", vp.endpoint()), Profile::MM58).expect("open");
    vp.set_babble(true);
    std::thread::sleep(Duration::from_millis(200)); // the line is flooded before we ask
    let start = Instant::now();
    let status = printer.status(&CancelToken::new());
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "bounded: {took:?}");
    // Its answers still get through the chatter.
    assert!(status.is_ok_and(|s| s.ready()), "took {took:?}");
}
