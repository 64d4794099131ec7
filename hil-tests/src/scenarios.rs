//! The scenarios: what each proves, which roles it needs, and the code. On simulators they run
//! unattended; on a real bench they ask the person at the bench to insert, tap or swipe.

use std::time::{Duration, Instant};

use pos_emv::contact::ONLINE_TAGS;
use pos_emv::{CapkSet, Contact, Cryptogram, CvmStep, HostAnswer, TerminalConfig, TransactionData};
use pos_examples::headless::{Settings, Terminal};
use pos_examples::tui::{App, Input};
use pos_hal::{CancelToken, IccReader, MagstripeReader, PiccReader, PollOutcome, ReceiptPrinter};

use crate::report::{Outcome, Report, ScenarioResult};
use crate::rig::{Resolved, Rig};

/// A role a scenario needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Contact reader.
    Contact,
    /// Contactless reader.
    Contactless,
    /// Magstripe reader.
    Magstripe,
    /// Printer.
    Printer,
    /// Host.
    Host,
}

type Run = fn(&mut Rig) -> Result<String, String>;

/// One scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Its name.
    pub name: &'static str,
    /// What it proves.
    pub proves: &'static str,
    /// Roles it needs.
    pub needs: &'static [Need],
    /// Only a simulator can do what it needs (a fault, a known PIN).
    pub sim_only: bool,
    run: Run,
}

/// Every scenario, in run order.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "contact/read-card",
        proves: "the contact reader powers a card and its applications and PAN are read",
        needs: &[Need::Contact],
        sim_only: false,
        run: contact_read_card,
    },
    Scenario {
        name: "contact/emv-online",
        proves: "the EMV kernel completes an online transaction on the card (ODA, CVM, ARQC, TC)",
        needs: &[Need::Contact],
        sim_only: false,
        run: contact_emv_online,
    },
    Scenario {
        name: "contact/card-pulled-at-each-apdu",
        proves: "a card pulled at any command of the EMV transaction ends it with a card-removed error, never a completion",
        needs: &[Need::Contact],
        sim_only: true,
        run: contact_card_pulled,
    },
    Scenario {
        name: "contactless/qpboc-tap",
        proves: "the contactless reader activates the card and the qPBOC kernel gets its cryptogram",
        needs: &[Need::Contactless],
        sim_only: false,
        run: contactless_tap,
    },
    Scenario {
        name: "magstripe/swipe",
        proves: "a swipe is read with its tracks' status and the PAN",
        needs: &[Need::Magstripe],
        sim_only: false,
        run: magstripe_swipe,
    },
    Scenario {
        name: "printer/both-slips",
        proves: "the printer prints both sale slips and reports each job printed",
        needs: &[Need::Printer],
        sim_only: false,
        run: printer_slips,
    },
    Scenario {
        name: "printer/paper-out",
        proves: "a job that runs out of paper is reported not printed",
        needs: &[Need::Printer],
        sim_only: true,
        run: printer_paper_out,
    },
    Scenario {
        name: "pos/sale-swipe",
        proves: "sign-in, a swiped sale approved online and both slips, through the POS flows",
        needs: &[Need::Host, Need::Printer],
        sim_only: true,
        run: pos_sale_swipe,
    },
    Scenario {
        name: "pos/garbage-answer-is-reversed",
        proves: "a sale whose answer is garbage is reversed before the next request: the balance is whole",
        needs: &[Need::Host],
        sim_only: true,
        run: pos_garbage_reversed,
    },
    Scenario {
        name: "pos/sale-chip",
        proves: "a chip sale with online PIN: EMV kernel, ARQC verified by the host, ARPC, TC",
        needs: &[Need::Host, Need::Contact],
        sim_only: true,
        run: pos_sale_chip,
    },
    Scenario {
        name: "pos/sale-tap",
        proves: "a tapped qPBOC sale approved online",
        needs: &[Need::Host, Need::Contactless],
        sim_only: true,
        run: pos_sale_tap,
    },
];

fn role(rig: &Rig, need: Need) -> &Resolved {
    match need {
        Need::Contact => &rig.contact,
        Need::Contactless => &rig.contactless,
        Need::Magstripe => &rig.magstripe,
        Need::Printer => &rig.printer,
        Need::Host => &rig.host,
    }
}

fn selector(r: &Resolved) -> Result<&str, String> {
    r.selector()
        .ok_or_else(|| "role not on this bench".to_string())
}

fn txn(amount: u64) -> TransactionData {
    TransactionData {
        amount,
        other_amount: 0,
        kind: 0,
        date: [0x26, 0x12, 0x01],
        time: [0x12, 0x00, 0x00],
        unpredictable: {
            let n = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(7);
            n.to_be_bytes()
        },
        sequence: 1,
        force_online: false,
        electronic_cash: false,
    }
}

fn capks(rig: &Rig) -> Result<CapkSet, String> {
    let text = match &rig.bench.capk {
        Some(p) => std::fs::read_to_string(p).map_err(|e| e.to_string())?,
        None => pos_sim::emv::TEST_CAPK_TOML.to_string(),
    };
    CapkSet::from_toml(&text).map_err(|e| e.to_string())
}

fn contact_read_card(rig: &mut Rig) -> Result<String, String> {
    let mut reader = pos_devices::open_icc(selector(&rig.contact)?).map_err(|e| e.to_string())?;
    if !rig.contact.is_sim() {
        rig.ask("insert a payment card in the contact reader");
    }
    reader
        .wait_for_card(Duration::from_secs(60), &CancelToken::new())
        .map_err(|e| format!("no card: {e}"))?;
    reader.power_on().map_err(|e| e.to_string())?;
    let info = pos_examples::card_info::read(reader.as_mut()).map_err(|e| e.to_string())?;
    let pan = info.pan.ok_or("no PAN in the records")?;
    Ok(format!(
        "{} application(s) via {}, PAN {pan}",
        info.applications.len(),
        info.directory
    ))
}

fn contact_emv_online(rig: &mut Rig) -> Result<String, String> {
    emv_transaction(rig).map_err(|(e, _)| e)
}

/// One contact EMV transaction; the error comes with the HAL kind when the card or reader
/// failed.
fn emv_transaction(rig: &mut Rig) -> Result<String, (String, Option<pos_hal::ErrorKind>)> {
    let plain = |e: String| (e, None);
    let kind = |e: pos_emv::EmvError| (e.to_string(), Some(e.kind()));
    let keys = capks(rig).map_err(plain)?;
    let mut terminal = TerminalConfig::china_pos();
    terminal.capabilities[1] &= !0x80;
    let sel = selector(&rig.contact).map_err(plain)?;
    let mut reader = pos_devices::open_icc(sel).map_err(|e| plain(e.to_string()))?;
    reader
        .wait_for_card(Duration::from_secs(60), &CancelToken::new())
        .map_err(|e| (format!("no card: {e}"), Some(pos_hal::Error::kind(&e))))?;
    reader
        .power_on()
        .map_err(|e| (e.to_string(), Some(pos_hal::Error::kind(&e))))?;
    let card = reader.as_mut();
    let (list, _) = pos_emv::candidates(card, &terminal).map_err(kind)?;
    let mut k = Contact::start(card, &terminal, &keys, &list[0], &txn(1234)).map_err(kind)?;
    let mut step = k.cardholder_verification(card).map_err(kind)?;
    while step != CvmStep::Done {
        step = match step {
            CvmStep::OnlinePin => k.online_pin_entered(card, true),
            _ => k.verify_offline_pin(card, None, &[0; 32]),
        }
        .map_err(kind)?;
    }
    let first = k.first_generate_ac(card).map_err(kind)?;
    if first != Cryptogram::Arqc {
        return Err(plain(format!(
            "the card answered {} to a POS that goes online",
            first.name()
        )));
    }
    let icc = k.icc_data(ONLINE_TAGS);
    if rig.contact.is_sim() {
        verify_arqc(&icc).map_err(plain)?;
    }
    let approved = HostAnswer::Answered {
        arc: *b"00",
        issuer_authentication: None,
        scripts: Vec::new(),
    };
    let done = k.complete(card, &approved).map_err(kind)?;
    if !done.approved {
        return Err(plain(format!(
            "the card declined after approval (TVR {})",
            k.tvr()
        )));
    }
    let (method, oda) = k.oda();
    Ok(format!(
        "ODA {method:?} {oda:?}, TVR {}, TSI {}, TC",
        k.tvr(),
        k.tsi()
    ))
}

fn contact_card_pulled(rig: &mut Rig) -> Result<String, String> {
    // PSE select, 2 directory reads, final select, GPO, 4 records, INTERNAL AUTHENTICATE,
    // GENERATE AC, GENERATE AC: 12 commands; pulled after n of them.
    const COMMANDS: usize = 12;
    let mut outcome = Ok(format!(
        "pulled after each of the {COMMANDS} commands: card removed every time"
    ));
    for n in 0..COMMANDS {
        rig.reinsert_card(pos_sim::vpcd::Faults {
            remove_after: Some(n),
            ..Default::default()
        })?;
        match emv_transaction(rig) {
            Ok(_) => {
                outcome = Err(format!(
                    "completed although the card was pulled after {n} commands"
                ));
                break;
            }
            Err((_, Some(pos_hal::ErrorKind::CardRemoved | pos_hal::ErrorKind::NoCard))) => {}
            Err((why, kind)) => {
                outcome = Err(format!(
                    "pulled after {n} commands: {why} ({kind:?}), not card removed"
                ));
                break;
            }
        }
    }
    rig.reinsert_card(pos_sim::vpcd::Faults::default())?;
    outcome
}

/// The simulated card's ARQC checked as its issuer would (test issuer key).
fn verify_arqc(icc: &[u8]) -> Result<(), String> {
    let get = |tag| {
        pos_hal::tlv::find(icc, tag)
            .ok()
            .flatten()
            .map(|t| t.value.to_vec())
    };
    let digits: Vec<u8> = b"6212345678901232".iter().map(|d| d - b'0').collect();
    let mk = pos_emv::issuer::card_master_key(&pos_sim::emv::TEST_IMK, &digits, 1);
    let atc: [u8; 2] = get(0x9F36)
        .and_then(|v| v.try_into().ok())
        .ok_or("no ATC in field 55")?;
    let input = pos_emv::issuer::ac_input(get).ok_or("field 55 lacks the AC data")?;
    if get(0x9F26) != Some(pos_emv::issuer::cryptogram(&mk, atc, &input).to_vec()) {
        return Err("the ARQC does not verify with the issuer key".into());
    }
    Ok(())
}

struct Dark;

impl pos_hal::ErrorType for Dark {
    type Error = std::convert::Infallible;
}

impl pos_hal::Indicators for Dark {
    fn beep(&mut self, _: pos_hal::BeepKind) -> Result<(), Self::Error> {
        Ok(())
    }
    fn set_contactless_leds(&mut self, _: pos_hal::ContactlessLeds) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn contactless_tap(rig: &mut Rig) -> Result<String, String> {
    let keys = capks(rig)?;
    let mut reader =
        pos_devices::open_picc(selector(&rig.contactless)?).map_err(|e| e.to_string())?;
    if !rig.contactless.is_sim() {
        rig.ask("tap a qPBOC card on the contactless reader");
    }
    match reader
        .poll(
            pos_hal::TargetTypes::AB,
            Duration::from_secs(60),
            &CancelToken::new(),
        )
        .map_err(|e| e.to_string())?
    {
        PollOutcome::Card(_) => {}
        PollOutcome::Collision => return Err("more than one card in the field".into()),
        _ => return Err("no card tapped".into()),
    }
    let tap = pos_emv::tap(
        reader.as_mut(),
        &mut Dark,
        &TerminalConfig::china_pos(),
        &pos_emv::ContactlessLimits::default(),
        &keys,
        &txn(1234),
    )
    .map_err(|e| e.to_string())?;
    let _ = reader.deactivate();
    match tap.outcome() {
        pos_emv::TapOutcome::Online { icc_data, .. } => {
            if rig.contactless.is_sim() {
                verify_arqc(icc_data)?;
            }
            Ok(format!(
                "online with ARQC, PAN {}",
                tap.pan().map(|p| p.to_string()).unwrap_or_default()
            ))
        }
        other => Err(format!("tap ended {other:?}")),
    }
}

fn magstripe_swipe(rig: &mut Rig) -> Result<String, String> {
    let mut reader =
        pos_devices::open_magstripe(selector(&rig.magstripe)?).map_err(|e| e.to_string())?;
    let swiper = if rig.magstripe.is_sim() {
        rig.swipe_soon("misread-track1")
    } else {
        rig.ask("swipe a bank card on the magstripe reader");
        None
    };
    let swipe = reader
        .read_swipe(Duration::from_secs(60), &CancelToken::new())
        .map_err(|e| e.to_string());
    if let Some(t) = swiper {
        let _ = t.join();
    }
    let swipe = swipe?;
    let pan = swipe.tracks().pan().map_err(|e| format!("no PAN: {e}"))?;
    Ok(format!(
        "PAN {pan}, track 1 {}, track 2 {}",
        if swipe.track1.ok().is_some() {
            "read"
        } else {
            "not read"
        },
        if swipe.track2.ok().is_some() {
            "read"
        } else {
            "not read"
        }
    ))
}

fn printer_slips(rig: &mut Rig) -> Result<String, String> {
    let mut printer =
        pos_devices::open_printer(selector(&rig.printer)?).map_err(|e| e.to_string())?;
    let slip = pos_terminal::slip::SaleSlip::sample();
    for copy in [
        pos_terminal::slip::Copy::Merchant,
        pos_terminal::slip::Copy::Cardholder,
    ] {
        let layout = slip.layout(copy);
        let lines = layout.lines();
        printer
            .print(&pos_hal::Receipt::new(&lines), &CancelToken::new())
            .map_err(|e| format!("{copy:?} copy: {e}"))?;
    }
    if let Some(sim) = &rig.printer_sim {
        let complete = sim.jobs().iter().filter(|j| j.complete).count();
        if complete < 2 {
            return Err(format!("the printer finished {complete} of 2 jobs"));
        }
    }
    Ok("both copies printed".into())
}

fn printer_paper_out(rig: &mut Rig) -> Result<String, String> {
    let sim = rig
        .printer_sim
        .as_ref()
        .ok_or("needs the virtual printer")?;
    sim.set_paper(pos_sim::printer::Paper::Out);
    let result = pos_devices::open_printer(selector(&rig.printer)?)
        .map_err(|e| e.to_string())
        .and_then(|mut p| {
            let slip = pos_terminal::slip::SaleSlip::sample();
            let layout = slip.layout(pos_terminal::slip::Copy::Merchant);
            let lines = layout.lines();
            p.print(&pos_hal::Receipt::new(&lines), &CancelToken::new())
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    if let Some(sim) = &rig.printer_sim {
        sim.set_paper(pos_sim::printer::Paper::Ok);
    }
    match result {
        Err(e) if e.to_lowercase().contains("paper") => Ok(format!("reported: {e}")),
        Err(e) => Err(format!("failed, but not as paper out: {e}")),
        Ok(()) => Err("a job without paper was reported printed".into()),
    }
}

fn pos_app(rig: &Rig, journal: &str) -> Result<App, String> {
    let mut s = Settings::demo(selector(&rig.host)?, rig.dir.join(journal));
    s.printer = rig.printer.selector().map(str::to_string);
    s.reader = rig.contact.selector().map(str::to_string);
    s.contactless = rig.contactless.selector().map(str::to_string);
    s.tmk = rig.bench.terminal.tmk.clone();
    s.terminal_id = rig.bench.terminal.terminal_id.clone();
    s.merchant_id = rig.bench.terminal.merchant_id.clone();
    s.capk = rig.bench.capk.clone();
    let (terminal, _) = Terminal::open(&s).map_err(|e| format!("sign-in: {e}"))?;
    crate::matrix::log_in(App::new(terminal))
}

fn press(app: &mut App, inputs: &[Input]) -> Result<(), String> {
    for i in inputs {
        app.input(*i).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn expect(app: &App, screen: &str) -> Result<(), String> {
    match app.screen_name() {
        s if s == screen => Ok(()),
        other => Err(format!("expected the {screen} screen, saw {other}")),
    }
}

fn amount(app: &mut App, digits: &str) -> Result<(), String> {
    for d in digits.bytes() {
        app.input(Input::Digit(d - b'0'))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn finish_sale(app: &mut App) -> Result<String, String> {
    expect(app, "TearReceipt")?;
    press(app, &[Input::Enter])?;
    expect(app, "Done")?;
    Ok("approved, both slips printed".into())
}

fn pos_sale_swipe(rig: &mut Rig) -> Result<String, String> {
    let mut app = pos_app(rig, "swipe.sqlite")?;
    press(&mut app, &[Input::Digit(1)])?;
    amount(&mut app, "1234")?;
    press(&mut app, &[Input::Enter, Input::Swipe])?;
    expect(&app, "ConfirmCard")?;
    press(&mut app, &[Input::Enter])?;
    finish_sale(&mut app)
}

fn pos_garbage_reversed(rig: &mut Rig) -> Result<String, String> {
    let mut app = pos_app(rig, "garbage.sqlite")?;
    let host = rig.host_sim.as_ref().ok_or("needs host-sim")?;
    host.faults()
        .garbage
        .store(true, std::sync::atomic::Ordering::Release);
    press(&mut app, &[Input::Digit(1)])?;
    amount(&mut app, "1234")?;
    let sold = press(&mut app, &[Input::Enter, Input::Swipe, Input::Enter]);
    host.faults()
        .garbage
        .store(false, std::sync::atomic::Ordering::Release);
    sold?;
    expect(&app, "Reversing")?;
    press(&mut app, &[Input::Enter, Input::Enter])?;
    // The balance inquiry is the next request: the reversal goes first.
    press(&mut app, &[Input::Digit(2), Input::Swipe, Input::Enter])?;
    expect(&app, "EnterPin")?;
    amount(&mut app, "123456")?;
    press(&mut app, &[Input::Enter])?;
    expect(&app, "Balance")?;
    let screen = app.screen();
    if !screen.contains("10000.00") {
        return Err(format!(
            "the balance is not whole after the reversal: {screen}"
        ));
    }
    Ok("reversed before the balance inquiry; RMB 10000.00 available".into())
}

fn pos_sale_chip(rig: &mut Rig) -> Result<String, String> {
    let mut app = pos_app(rig, "chip.sqlite")?;
    press(&mut app, &[Input::Digit(1)])?;
    amount(&mut app, "1234")?;
    press(&mut app, &[Input::Enter, Input::Insert])?;
    expect(&app, "ConfirmCard")?;
    press(&mut app, &[Input::Enter])?;
    expect(&app, "EnterPin")?;
    amount(&mut app, "123456")?;
    press(&mut app, &[Input::Enter])?;
    finish_sale(&mut app)
}

fn pos_sale_tap(rig: &mut Rig) -> Result<String, String> {
    let mut app = pos_app(rig, "tap.sqlite")?;
    press(&mut app, &[Input::Digit(1)])?;
    amount(&mut app, "1234")?;
    press(&mut app, &[Input::Enter, Input::Tap])?;
    expect(&app, "ConfirmCard")?;
    press(&mut app, &[Input::Enter])?;
    finish_sale(&mut app)
}

/// One thing to run: a scenario of [`SCENARIOS`] or a case of the [`crate::matrix`].
enum Planned<'a> {
    Scenario(&'a Scenario),
    Case(crate::matrix::Case),
}

impl Planned<'_> {
    fn name(&self) -> &str {
        match self {
            Planned::Scenario(s) => s.name,
            Planned::Case(c) => &c.name,
        }
    }
    fn proves(&self) -> &str {
        match self {
            Planned::Scenario(s) => s.proves,
            Planned::Case(c) => &c.proves,
        }
    }
    fn needs(&self) -> &[Need] {
        match self {
            Planned::Scenario(s) => s.needs,
            Planned::Case(c) => &c.needs,
        }
    }
    /// The matrix reads the host's ledger and commits faults: simulators only.
    fn sim_only(&self) -> bool {
        match self {
            Planned::Scenario(s) => s.sim_only,
            Planned::Case(_) => true,
        }
    }
    fn run(&self, rig: &mut Rig) -> Result<String, String> {
        match self {
            Planned::Scenario(s) => (s.run)(rig),
            Planned::Case(c) => crate::matrix::run(rig, c),
        }
    }
}

/// Runs every scenario, then the matrix, on `rig` (those whose name starts with `only`,
/// when given), printing progress.
pub fn run_all(rig: &mut Rig, only: Option<&str>) -> Report {
    let mut results = Vec::new();
    let chosen: Vec<Planned<'_>> = SCENARIOS
        .iter()
        .map(Planned::Scenario)
        .chain(crate::matrix::cases().into_iter().map(Planned::Case))
        .filter(|s| only.is_none_or(|p| s.name().starts_with(p)))
        .collect();
    for (i, s) in chosen.iter().enumerate() {
        let missing = s.needs().iter().find_map(|n| match role(rig, *n) {
            Resolved::Absent(why) => Some(format!("{n:?}: {why}")),
            Resolved::Real(_) if s.sim_only() => Some(format!(
                "{n:?} is a real device: this scenario needs its simulator"
            )),
            _ => None,
        });
        let start = Instant::now();
        let jobs_before = rig.printer_sim.as_ref().map_or(0, |p| p.jobs().len());
        let outcome = match missing {
            Some(why) => Outcome::Skipped(why),
            None => match s.run(rig) {
                Ok(detail) => Outcome::Passed(detail),
                Err(why) => Outcome::Failed(why),
            },
        };
        let verdict = match &outcome {
            Outcome::Passed(_) => "ok     ",
            Outcome::Failed(_) => "FAILED ",
            Outcome::Skipped(_) => "skipped",
        };
        println!("[{}/{}] {verdict} {}", i + 1, chosen.len(), s.name());
        if let Outcome::Failed(why) = &outcome {
            println!("        {why}");
        }
        let receipts = rig.printer_sim.as_ref().map_or_else(Vec::new, |p| {
            p.jobs()
                .into_iter()
                .skip(jobs_before)
                .filter_map(|j| j.png)
                .collect()
        });
        results.push(ScenarioResult {
            name: s.name().to_string(),
            proves: s.proves().to_string(),
            outcome,
            time: start.elapsed(),
            receipts,
        });
    }
    let shown = |r: &Resolved| match r {
        Resolved::Sim(s) => format!("simulator at {s}"),
        Resolved::Real(s) => s.clone(),
        Resolved::Absent(why) => format!("absent ({why})"),
    };
    Report {
        bench: rig.bench.name.clone(),
        devices: vec![
            ("contact reader", shown(&rig.contact)),
            ("contactless reader", shown(&rig.contactless)),
            ("magstripe reader", shown(&rig.magstripe)),
            ("printer", shown(&rig.printer)),
            ("host", shown(&rig.host)),
        ],
        results,
    }
}
