//! The POS TUI driven through ratatui's test backend: keys in, screen text out, against
//! host-sim, the virtual printer, the PN532 emulator and (stack tests) pcscd + vpcd.

mod common;

use common::Stage;
use pos_examples::headless::{Settings, Terminal};
use pos_examples::tui::{App, Input};
use pos_sim::emv::{CardProfile, EmvCard};
use ratatui::Terminal as Screen;
use ratatui::backend::TestBackend;

fn settings(stage: &Stage) -> Settings {
    let mut s = Settings::demo(
        stage.host.addr().to_string(),
        stage.dir.0.join("journal.sqlite"),
    );
    s.printer = Some(format!("escpos:tcp:{}", stage.printer.endpoint()));
    s
}

/// The screen as text, one line per row (wide characters take their cells once).
fn shown(app: &App) -> String {
    let mut screen = Screen::new(TestBackend::new(120, 40)).expect("backend");
    screen.draw(|f| app.draw(f)).expect("draw");
    let buffer = screen.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

#[test]
fn a_window_under_80_by_24_gets_a_notice_not_a_broken_screen() {
    let stage = Stage::new("tui", "small");
    let app = open(&stage, &settings(&stage));
    let mut screen = Screen::new(TestBackend::new(60, 20)).expect("backend");
    screen.draw(|f| app.draw(f)).expect("draw");
    let buffer = screen.backend().buffer().clone();
    let text: String = buffer.content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("80×24") && text.contains("60×20"), "{text}");
    let mut screen = Screen::new(TestBackend::new(80, 24)).expect("backend");
    screen.draw(|f| app.draw(f)).expect("draw");
    let text: String = screen
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains("SALE") && !text.contains("80×24"), "{text}");
}

fn keys(app: &mut App, inputs: &[Input]) {
    for i in inputs {
        app.input(*i).expect("input");
    }
}

fn digits(app: &mut App, text: &str) {
    for c in text.bytes() {
        app.input(Input::Digit(c - b'0')).expect("digit");
    }
}

fn open(stage: &Stage, s: &Settings) -> App {
    let _ = stage;
    let (terminal, _) = Terminal::open(s).expect("signs in");
    logged_in(App::new(terminal))
}

/// Cashier 01 logs in from the menu (8) with the new-terminal password.
fn logged_in(mut app: App) -> App {
    app.input(Input::Digit(8)).expect("login");
    digits(&mut app, "01");
    keys(&mut app, &[Input::Enter]);
    digits(&mut app, "0000");
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "LoggedIn", "{}", shown(&app));
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.operator(), Some("01"));
    app
}

#[test]
fn the_menu_then_a_swiped_sale_shows_every_screen_and_the_receipt() {
    let stage = Stage::new("tui", "swipe");
    let mut app = open(&stage, &settings(&stage));
    let home = shown(&app);
    assert!(
        home.contains("SALE") && home.contains("SETTLEMENT") && home.contains("SIGNED IN"),
        "{home}"
    );
    app.input(Input::Digit(1)).expect("sale");
    assert_eq!(app.screen_name(), "Amount");
    digits(&mut app, "5000");
    assert!(shown(&app).contains("50.00"));
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "PresentCard");
    assert!(shown(&app).contains("insert") && shown(&app).contains("swipe"));
    keys(&mut app, &[Input::Swipe]);
    assert_eq!(app.screen_name(), "ConfirmCard");
    assert!(shown(&app).contains("621234******1232"));
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "TearReceipt");
    let screen = shown(&app);
    assert!(
        screen.contains("MERCHANT COPY") && screen.contains("1 printed"),
        "{screen}"
    );
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "Done");
    assert!(shown(&app).contains("CARDHOLDER COPY"));
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "Home");
    assert_eq!(stage.printer.jobs().len(), 2);
}

#[test]
fn login_a_void_of_that_sale_and_a_settlement_from_the_menu() {
    let stage = Stage::new("tui", "void-settle");
    let mut app = open(&stage, &settings(&stage));
    app.input(Input::Digit(8)).expect("login");
    digits(&mut app, "01");
    keys(&mut app, &[Input::Enter]);
    digits(&mut app, "0000");
    assert!(shown(&app).contains("****"));
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "LoggedIn");
    keys(&mut app, &[Input::Enter]);
    // A sale to void.
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "2000");
    keys(
        &mut app,
        &[
            Input::Enter,
            Input::Swipe,
            Input::Enter,
            Input::Enter,
            Input::Enter,
        ],
    );
    assert_eq!(app.screen_name(), "Home");
    app.input(Input::Digit(3)).expect("void");
    assert_eq!(app.screen_name(), "SupervisorPassword");
    digits(&mut app, "123456");
    keys(&mut app, &[Input::Enter]);
    digits(&mut app, "1");
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "OriginalSale");
    assert!(shown(&app).contains("20.00"));
    keys(&mut app, &[Input::Enter, Input::Swipe]);
    assert_eq!(app.screen_name(), "TearReceipt", "{}", shown(&app));
    assert!(shown(&app).contains("VOID"));
    keys(&mut app, &[Input::Enter, Input::Enter]);
    app.input(Input::Digit(6)).expect("settlement");
    assert_eq!(app.screen_name(), "SettlementTotals");
    let totals = shown(&app);
    assert!(
        totals.contains("DEBIT 1") && totals.contains("CREDIT 1"),
        "{totals}"
    );
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "Done");
    assert!(shown(&app).contains("BALANCED"));
}

#[test]
fn a_tapped_sale_through_the_emulated_pn532() {
    let stage = Stage::new("tui", "tap");
    let pn532 = pos_sim::pn532::Pn532Emulator::start().expect("PN532");
    let card = EmvCard::new(CardProfile::builtin("unionpay-debit").expect("profile"));
    pn532.insert(pos_sim::pn532::Presented::iso_dep_a(card, &[4, 3, 2, 1]));
    let mut s = settings(&stage);
    s.contactless = Some(format!("pn532:{}", pn532.path()));
    let mut app = open(&stage, &s);
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "1234");
    keys(&mut app, &[Input::Enter, Input::Tap]);
    assert_eq!(app.screen_name(), "ConfirmCard", "{}", shown(&app));
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "TearReceipt", "{}", shown(&app));
    assert!(stage.printer.jobs()[0].transcript().contains("挥卡 C"));
    assert!(pn532.exchanges() >= 4);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_chip_sale_with_online_pin_through_pcscd() {
    pos_sim::require_stack();
    let stage = Stage::new("tui", "chip");
    let card = EmvCard::new(CardProfile::builtin("unionpay-debit").expect("profile"));
    let slot = pos_sim::slots::insert(0, card, pos_sim::vpcd::Faults::default()).expect("insert");
    let mut s = settings(&stage);
    s.reader = Some("pcsc:Virtual PCD 00 00".into());
    let mut app = open(&stage, &s);
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "1234");
    keys(&mut app, &[Input::Enter, Input::Insert]);
    assert_eq!(app.screen_name(), "ConfirmCard", "{}", shown(&app));
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "EnterPin");
    digits(&mut app, "123456");
    assert!(shown(&app).contains("******"));
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "TearReceipt", "{}", shown(&app));
    pos_sim::slots::remove(slot, 0).expect("remove");
}

#[test]
fn without_a_terminal_it_says_so_and_points_to_the_scripted_runner() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pos-tui"))
        .args([
            "--host",
            "127.0.0.1:9",
            "--journal",
            "/nonexistent/j.sqlite",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a terminal") && err.contains("--script"),
        "{err}"
    );
}

#[test]
fn a_forged_mac_or_an_answer_for_another_terminal_is_reversed_and_the_money_comes_back() {
    use std::sync::atomic::Ordering;
    for fault in ["wrong_mac", "other_terminal"] {
        let stage = Stage::new("tui", fault);
        let mut app = open(&stage, &settings(&stage));
        let flag = match fault {
            "wrong_mac" => &stage.host.faults().wrong_mac,
            _ => &stage.host.faults().other_terminal,
        };
        // Signed in already: the fault bites the sale's answer only.
        flag.store(true, Ordering::Release);
        app.input(Input::Digit(1)).expect("sale");
        digits(&mut app, "5000");
        keys(&mut app, &[Input::Enter, Input::Swipe, Input::Enter]);
        flag.store(false, Ordering::Release);
        assert_eq!(app.screen_name(), "Reversing", "{fault}: {}", shown(&app));
        keys(&mut app, &[Input::Enter, Input::Enter]);
        assert_eq!(stage.printer.jobs().len(), 0, "{fault}: nothing printed");
        // The balance inquiry is the next request: the reversal goes first.
        app.input(Input::Digit(2)).expect("balance");
        keys(&mut app, &[Input::Swipe, Input::Enter]);
        digits(&mut app, "123456");
        keys(&mut app, &[Input::Enter]);
        assert_eq!(app.screen_name(), "Balance", "{fault}");
        assert!(
            app.screen().contains("10000.00"),
            "{fault}: {}",
            app.screen()
        );
    }
}

#[test]
fn the_receipt_panel_names_the_png_the_printer_saved() {
    let mut stage = Stage::new("tui", "png");
    let images = stage.dir.0.join("receipts");
    std::fs::create_dir_all(&images).expect("dir");
    stage.printer = pos_sim::printer::VirtualPrinter::tcp(0, 384, Some(images.clone()))
        .expect("printer with PNG output");
    let (terminal, _) = Terminal::open(&settings(&stage)).expect("signs in");
    let mut app = logged_in(App::new(terminal).with_receipt_images(&images));
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "100");
    keys(&mut app, &[Input::Enter, Input::Swipe, Input::Enter]);
    assert_eq!(app.screen_name(), "TearReceipt");
    // The printer renders the job after its cut (loading its CJK font first); give it time.
    let mut screen = String::new();
    for _ in 0..300 {
        screen = shown(&app);
        if screen.contains("image: job-") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        screen.contains("image:") && screen.contains("job-"),
        "{screen}"
    );
}

#[test]
fn long_steps_report_their_progress_sign_in_printing_settlement_and_each_upload() {
    use pos_terminal::online::Progress;
    use std::cell::RefCell;
    use std::rc::Rc;
    let stage = Stage::new("tui", "progress");
    let seen: Rc<RefCell<Vec<Progress>>> = Rc::default();
    let log = Rc::clone(&seen);
    let (terminal, _) = Terminal::open_with_progress(
        &settings(&stage),
        Box::new(move |p| log.borrow_mut().push(p)),
    )
    .expect("signs in");
    assert_eq!(seen.borrow().first(), Some(&Progress::SigningIn));
    let mut app = logged_in(App::new(terminal));
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "5000");
    keys(
        &mut app,
        &[Input::Enter, Input::Swipe, Input::Enter, Input::Enter],
    );
    assert_eq!(app.screen_name(), "Done");
    assert_eq!(
        seen.borrow()
            .iter()
            .filter(|p| **p == Progress::Printing)
            .count(),
        2,
        "one per copy"
    );
    keys(&mut app, &[Input::Enter]);
    // The host forgets the sale: the totals disagree and the batch goes up.
    let db = rusqlite::Connection::open(stage.dir.0.join("ledger.sqlite")).expect("ledger");
    db.execute("DELETE FROM txns WHERE kind = 'sale'", [])
        .expect("delete");
    app.input(Input::Digit(6)).expect("settlement");
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "Done");
    let seen = seen.borrow();
    let from = seen
        .iter()
        .position(|p| *p == Progress::Settling)
        .expect("settling reported");
    assert_eq!(
        seen[from + 1..],
        [
            Progress::Uploading { done: 0, total: 1 },
            Progress::Printing
        ],
        "{seen:?}"
    );
}

#[test]
fn the_progress_box_says_what_is_going_on() {
    let mut screen = Screen::new(TestBackend::new(80, 24)).expect("backend");
    let text = pos_terminal::online::Progress::Uploading { done: 2, total: 5 }.to_string();
    screen
        .draw(|f| pos_examples::tui::draw_progress(f, &text))
        .expect("draw");
    let shown: String = screen
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(
        shown.contains("please wait") && shown.contains("2/5"),
        "{shown}"
    );
}

#[test]
fn a_qr_as_text_has_its_finder_patterns_in_the_corners() {
    let qr = pos_examples::tui::qr_text("https://qr.example.com/pay/900000000001").expect("QR");
    let lines: Vec<&str> = qr.lines().collect();
    // Row pair 1 is the finder's top edge (all dark) over its hollow second row.
    assert!(lines[1].starts_with("  █▀▀▀▀▀█"), "{qr}");
    assert!(lines[1].trim_end().ends_with("█▀▀▀▀▀█"), "{qr}");
    assert!(
        lines
            .iter()
            .all(|l| l.chars().count() == lines[0].chars().count())
    );
}

#[test]
fn scan_pay_from_the_menu_the_customers_code_then_the_terminals_qr() {
    let stage = Stage::new("tui", "scan-pay");
    let mut app = open(&stage, &settings(&stage));
    // 9: the cashier scans the customer's code.
    app.input(Input::Digit(9)).expect("scan pay");
    digits(&mut app, "1200");
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "ScanCode");
    assert!(
        shown(&app).contains("scan the payment code"),
        "{}",
        shown(&app)
    );
    keys(&mut app, &[Input::ScanCode]);
    assert_eq!(app.screen_name(), "TearReceipt");
    keys(&mut app, &[Input::Enter, Input::Enter]);
    assert_eq!(app.screen_name(), "Home");
    // 0: the customer scans the terminal's QR, pays, and the terminal notices.
    app.input(Input::Digit(0)).expect("show QR");
    digits(&mut app, "500");
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "ShowQr");
    // The whole code fits the smallest screen: its rows of modules are all there.
    let mut small = Screen::new(TestBackend::new(80, 24)).expect("backend");
    small.draw(|f| app.draw(f)).expect("draw");
    let buffer = small.backend().buffer().clone();
    let rows_with_modules = (0..buffer.area.height)
        .filter(|y| (0..44).any(|x| matches!(buffer[(x, *y)].symbol(), "█" | "▀" | "▄")))
        .count();
    // Version 3 (29 modules) at two modules per line: 15 lines carry modules.
    assert!(
        rows_with_modules >= 15,
        "QR cut at 80x24 ({rows_with_modules} rows)"
    );
    assert!(shown(&app).contains("CUSTOMER"));
    let ledger = rusqlite::Connection::open(stage.dir.0.join("ledger.sqlite")).expect("ledger");
    let order: String = ledger
        .query_row("SELECT id FROM orders WHERE state = 'open'", [], |r| {
            r.get(0)
        })
        .expect("the open order");
    assert!(
        pos_sim::acquirer::orders::pay_order(
            &stage.dir.0.join("ledger.sqlite"),
            &order,
            pos_sim::scanner::UNIONPAY_CODE
        )
        .expect("pay")
    );
    for _ in 0..100 {
        app.tick().expect("tick");
        if app.screen_name() != "ShowQr" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(app.screen_name(), "TearReceipt");
    assert_eq!(
        stage.printer.jobs().len(),
        3,
        "two slips of the first, one of the second"
    );
}

/// A stand-in for `sim-devices`' control port over in-process emulators.
fn control_port(
    msr: std::sync::Arc<pos_sim::msr::MsrEmulator>,
    scanner: std::sync::Arc<pos_sim::scanner::ScannerEmulator>,
) -> String {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("control port");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut out = stream.try_clone().expect("clone");
            for line in std::io::BufReader::new(stream)
                .lines()
                .map_while(Result::ok)
            {
                let done = match line.split_once(' ') {
                    Some(("swipe", card)) => msr.swipe(
                        &pos_sim::msr::SwipeCard::builtin(card).expect("card"),
                        pos_sim::msr::Framing::StxEtx,
                    ),
                    Some(("scan", code)) => scanner.scan(code),
                    _ => Ok(()),
                };
                let _ = writeln!(out, "{}", if done.is_ok() { "ok" } else { "error" });
            }
        }
    });
    addr
}

#[test]
fn the_swipe_and_scan_keys_drive_the_simulated_serial_devices_read_by_the_real_drivers() {
    let stage = Stage::new("tui", "serial-sims");
    let msr = std::sync::Arc::new(pos_sim::msr::MsrEmulator::start().expect("msr"));
    let scanner = std::sync::Arc::new(pos_sim::scanner::ScannerEmulator::start().expect("scanner"));
    let mut s = settings(&stage);
    s.magstripe = Some(format!("msr:serial:{}", msr.path()));
    s.scanner = Some(format!("scanner:serial:{}", scanner.path()));
    let (terminal, _) = Terminal::open(&s).expect("signs in");
    let mut app = logged_in(App::new(terminal).with_sim_control(control_port(
        std::sync::Arc::clone(&msr),
        std::sync::Arc::clone(&scanner),
    )));
    let panel = shown(&app);
    assert!(
        panel.contains("msr:serial:") && panel.contains("scanner:serial:"),
        "{panel}"
    );
    // A chip card swiped on the magstripe reader is told to go in the chip reader.
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "100");
    keys(&mut app, &[Input::Enter, Input::SwipeChipCard]);
    assert_eq!(app.screen_name(), "InsertChip");
    keys(&mut app, &[Input::Cancel]);
    keys(&mut app, &[Input::Enter]);
    // The stripe card swiped on it pays.
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "100");
    keys(&mut app, &[Input::Enter, Input::Swipe]);
    assert_eq!(app.screen_name(), "ConfirmCard");
    keys(&mut app, &[Input::Enter, Input::Enter, Input::Enter]);
    assert_eq!(app.screen_name(), "Home");
    // The payment code read by the scanner pays.
    app.input(Input::Digit(9)).expect("scan pay");
    digits(&mut app, "100");
    keys(&mut app, &[Input::Enter, Input::ScanCode]);
    assert_eq!(app.screen_name(), "TearReceipt");
    assert_eq!(stage.printer.jobs().len(), 3);
}

#[test]
fn power_on_shows_the_devices_signs_in_on_a_key_then_asks_for_the_operator() {
    let stage = Stage::new("tui", "power-on");
    let terminal = Terminal::open_signed_out(&settings(&stage), Box::new(|_| {})).expect("opens");
    let mut app = App::power_on(terminal).expect("power on");
    assert_eq!(app.screen_name(), "PowerOn");
    let screen = shown(&app);
    assert!(
        screen.contains("PRINTER:")
            && screen.contains("OK printer ready")
            && screen.contains("PRESS A KEY TO SIGN IN"),
        "{screen}"
    );
    assert!(!app.signed_in());
    keys(&mut app, &[Input::Enter]);
    assert!(app.signed_in());
    assert_eq!(app.screen_name(), "OperatorId", "{}", shown(&app));
    assert!(shown(&app).contains("SIGNED IN"));
    digits(&mut app, "01");
    keys(&mut app, &[Input::Enter]);
    digits(&mut app, "0000");
    keys(&mut app, &[Input::Enter, Input::Enter]);
    assert_eq!(app.operator(), Some("01"));
    app.input(Input::Digit(1)).expect("sale");
    assert_eq!(app.screen_name(), "Amount");
}

#[test]
fn a_failed_sign_in_is_explained_and_enter_tries_again_once_the_host_answers() {
    use std::sync::atomic::Ordering;
    let stage = Stage::new("tui", "sign-in-retry");
    stage.host.faults().drop.store(true, Ordering::SeqCst);
    let terminal = Terminal::open_signed_out(&settings(&stage), Box::new(|_| {})).expect("opens");
    let mut app = App::power_on(terminal).expect("power on");
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "SignInFailed");
    let screen = shown(&app);
    assert!(
        screen.contains("(NET)") && screen.contains("cannot be reached"),
        "{screen}"
    );
    // Until signed in, no transaction starts.
    assert!(!app.signed_in());
    stage.host.faults().drop.store(false, Ordering::SeqCst);
    keys(&mut app, &[Input::Enter]);
    assert!(app.signed_in(), "{}", shown(&app));
    assert_eq!(app.screen_name(), "OperatorId");
}

#[test]
fn no_transaction_starts_before_an_operator_logs_in() {
    let stage = Stage::new("tui", "login-first");
    let (terminal, _) = Terminal::open(&settings(&stage)).expect("signs in");
    let mut app = App::new(terminal);
    app.input(Input::Digit(1)).expect("sale");
    assert_eq!(app.screen_name(), "OperatorId");
    assert!(shown(&app).contains("LOG IN FIRST"));
    keys(&mut app, &[Input::Cancel, Input::Enter]);
    assert_eq!(app.screen_name(), "Home");
    assert_eq!(app.operator(), None);
    // A wrong password logs nobody in either.
    app.input(Input::Digit(9)).expect("scan pay");
    digits(&mut app, "01");
    keys(&mut app, &[Input::Enter]);
    digits(&mut app, "9999");
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "LoginRefused");
    assert_eq!(app.operator(), None);
    assert!(stage.printer.jobs().is_empty());
}

#[test]
fn the_management_menu_runs_the_self_check_the_network_check_and_the_records_query() {
    let stage = Stage::new("tui", "manage");
    let mut app = open(&stage, &settings(&stage));
    app.input(Input::Manage).expect("manage");
    assert!(shown(&app).contains("SELF-CHECK"));
    app.input(Input::Digit(1)).expect("self-check");
    assert_eq!(app.screen_name(), "KeyTest");
    digits(&mut app, "0123456789");
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "SelfCheckReport");
    let report = shown(&app);
    assert!(
        report.contains("ALL OK") && report.contains("3/3"),
        "{report}"
    );
    keys(&mut app, &[Input::Enter]);
    assert_eq!(app.screen_name(), "Done");
    assert_eq!(stage.printer.jobs().len(), 1);
    keys(&mut app, &[Input::Enter]);
    app.input(Input::Digit(2)).expect("network");
    assert!(shown(&app).contains("NETWORK: 3/3"));
    keys(&mut app, &[Input::Enter, Input::Enter]);
    app.input(Input::Digit(3)).expect("records");
    assert_eq!(app.screen_name(), "NoRecords");
    keys(&mut app, &[Input::Enter, Input::Enter]);
    // Back to the transactions: a sale, then it is the newest record.
    app.input(Input::Manage).expect("transactions");
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "100");
    keys(
        &mut app,
        &[
            Input::Enter,
            Input::Swipe,
            Input::Enter,
            Input::Enter,
            Input::Enter,
        ],
    );
    app.input(Input::Manage).expect("manage");
    app.input(Input::Digit(3)).expect("records");
    let record = shown(&app);
    assert!(
        record.contains("RECORDS 1/1") && record.contains("621234******1232"),
        "{record}"
    );
}

#[test]
fn the_slips_name_the_operator_who_is_logged_in() {
    let stage = Stage::new("tui", "operator-on-slip");
    let (terminal, _) = Terminal::open(&settings(&stage)).expect("signs in");
    let mut app = App::new(terminal);
    // The supervisor logs in (00, password 123456 on a new terminal).
    app.input(Input::Digit(8)).expect("login");
    digits(&mut app, "00");
    keys(&mut app, &[Input::Enter]);
    digits(&mut app, "123456");
    keys(&mut app, &[Input::Enter, Input::Enter]);
    assert_eq!(app.operator(), Some("00"));
    app.input(Input::Digit(1)).expect("sale");
    digits(&mut app, "100");
    keys(&mut app, &[Input::Enter, Input::Swipe, Input::Enter]);
    assert_eq!(app.screen_name(), "TearReceipt");
    let slip = stage.printer.jobs()[0].transcript();
    let line = slip
        .lines()
        .find(|l| l.contains("操作员号"))
        .expect("operator line");
    assert!(line.trim_end().ends_with("00"), "{line}");
}
