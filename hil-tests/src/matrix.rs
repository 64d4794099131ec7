//! The POS matrix: each money flow × each card entry mode × each fault, driven through the
//! POS screens by an operator that answers every screen as a cashier would. One terminal (its
//! own terminal id at host-sim, one journal) lives through the whole matrix, as a real one
//! lives through a day. After every case the reversals are sent and the host's ledger must
//! hold exactly the transactions the terminal's journal calls approved — nothing charged
//! twice, nothing charged that the terminal does not know of, nothing lost.

use std::sync::atomic::Ordering;
use std::time::Duration;

use pos_examples::headless::{Settings, Terminal};
use pos_examples::tui::{App, Input};
use pos_platform::SqliteJournal;
use pos_terminal::journal::{Journal, Outcome};

use crate::rig::Rig;
use crate::scenarios::Need;

/// The matrix terminal at host-sim (its own id, so other scenarios' journals never share its
/// STANs).
pub const TERMINAL_ID: &str = "87650001";
/// Its merchant.
pub const MERCHANT_ID: &str = "876500000000001";

/// A money flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// 消费.
    Sale,
    /// 预授权.
    PreAuth,
    /// 余额查询.
    Balance,
    /// 消费撤销 of a sale made just before (supervisor password, its voucher, the card).
    Void,
    /// 退货 of a sale made just before (supervisor password, the card, its reference number
    /// and date, the amount).
    Refund,
    /// 预授权完成 of a pre-authorisation made just before (the card, its authorisation code
    /// and date, the amount).
    Completion,
    /// 预授权撤销 of a pre-authorisation made just before (supervisor password, the card,
    /// its authorisation code and date, the amount).
    PreAuthCancel,
    /// 结算 of the open batch (no card).
    Settle,
}

/// How the card is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The test card's stripe.
    Swipe,
    /// The chip card in the contact reader (pcscd + vpcd).
    Insert,
    /// The card on the contactless reader (PN532 emulator).
    Tap,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing.
    None,
    /// The host answers garbage.
    HostGarbage,
    /// The host's answers carry a wrong MAC.
    HostWrongMac,
    /// The host answers as if for another terminal.
    HostOtherTerminal,
    /// The host answers after the terminal stopped waiting.
    HostLate,
    /// The host hangs up instead of answering.
    HostDrops,
    /// No paper for the merchant copy; the cashier gives up.
    PaperOutMerchantCopy,
    /// The paper ends after the merchant copy; the cardholder copy is skipped.
    PaperOutBetweenCopies,
    /// The chip card is pulled at this command of the transaction (1-based).
    CardPulledAt(usize),
    /// pcscd restarts after the terminal opened its reader (the driver must find the new
    /// daemon by itself).
    PcscdRestart,
    /// The terminal (the `pos` runner) is killed, as by a power cut, at this journal step
    /// (`before-send`, `after-answer`, `between-receipts`); then it restarts.
    KilledAt(&'static str),
}

/// The journal steps the terminal is killed at.
pub const KILL_STEPS: [&str; 3] = ["before-send", "after-answer", "between-receipts"];

impl Fault {
    fn name(self) -> String {
        match self {
            Fault::None => "approved".into(),
            Fault::HostGarbage => "host-garbage".into(),
            Fault::HostWrongMac => "host-wrong-mac".into(),
            Fault::HostOtherTerminal => "host-other-terminal".into(),
            Fault::HostLate => "host-late".into(),
            Fault::HostDrops => "host-drops".into(),
            Fault::PaperOutMerchantCopy => "paper-out-merchant-copy".into(),
            Fault::PaperOutBetweenCopies => "paper-out-between-copies".into(),
            Fault::CardPulledAt(n) => format!("card-pulled-at-apdu-{n:02}"),
            Fault::PcscdRestart => "pcscd-restart".into(),
            Fault::KilledAt(step) => format!("killed-{step}"),
        }
    }

    fn host(self) -> bool {
        matches!(
            self,
            Fault::HostGarbage
                | Fault::HostWrongMac
                | Fault::HostOtherTerminal
                | Fault::HostLate
                | Fault::HostDrops
        )
    }
}

/// One case of the matrix.
#[derive(Debug, Clone)]
pub struct Case {
    /// `matrix/sale/insert/host-garbage`.
    pub name: String,
    /// What it proves.
    pub proves: String,
    /// The roles it needs (all simulators: the ledger is read).
    pub needs: Vec<Need>,
    flow: Flow,
    entry: Entry,
    fault: Fault,
}

/// Commands of a contact sale with online PIN — 4 asking the card whether it offers
/// electronic cash, 13 for the transaction, the last of them the second GENERATE AC: a pull
/// is tried at each (one past the last would let the sale complete, and fail the case).
pub const CONTACT_SALE_COMMANDS: usize = 17;

/// The commands each flow sends an inserted card (the transaction's own, after any earlier
/// transaction it names): the card is pulled at each in turn. A pre-authorisation or balance
/// inquiry runs the whole kernel (13; no electronic cash is offered for them); a void,
/// refund, completion or cancel reads the card number only (6).
pub fn contact_commands(flow: Flow) -> usize {
    match flow {
        Flow::Sale => CONTACT_SALE_COMMANDS,
        Flow::PreAuth | Flow::Balance => 13,
        Flow::Settle => 0,
        Flow::Void | Flow::Refund | Flow::Completion | Flow::PreAuthCancel => 6,
    }
}

/// Every case, in run order.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let host_faults = [
        Fault::None,
        Fault::HostGarbage,
        Fault::HostWrongMac,
        Fault::HostOtherTerminal,
        Fault::HostLate,
        Fault::HostDrops,
    ];
    for flow in [
        Flow::Sale,
        Flow::PreAuth,
        Flow::Balance,
        Flow::Void,
        Flow::Refund,
        Flow::Completion,
        Flow::PreAuthCancel,
    ] {
        let entries: &[Entry] = if needs_original(flow) {
            // A void or refund reads the card number only: the stripe and the chip.
            &[Entry::Swipe, Entry::Insert]
        } else {
            &[Entry::Swipe, Entry::Insert, Entry::Tap]
        };
        for &entry in entries {
            let mut faults = host_faults.to_vec();
            // An answer for another terminal and a late one are the link's business, the
            // same for every flow: the sale carries them (each costs a host timeout).
            if flow != Flow::Sale {
                faults.retain(|f| !matches!(f, Fault::HostOtherTerminal | Fault::HostLate));
            }
            if flow != Flow::Balance {
                faults.extend([Fault::PaperOutMerchantCopy, Fault::PaperOutBetweenCopies]);
            }
            // The card pulled at each command, and pcscd restarted, for each way a flow reads
            // a chip: the sale (electronic cash asked, the kernel, online PIN), the balance
            // inquiry (the kernel without the question) and the void (the card number only —
            // refund, completion and cancel read it the same way).
            if entry == Entry::Insert && matches!(flow, Flow::Sale | Flow::Balance | Flow::Void) {
                faults.extend((1..=contact_commands(flow)).map(Fault::CardPulledAt));
                faults.push(Fault::PcscdRestart);
            }
            let killable = matches!(flow, Flow::Sale | Flow::PreAuth | Flow::Void | Flow::Refund);
            if killable && entry == Entry::Swipe {
                faults.extend(KILL_STEPS.map(Fault::KilledAt));
            }
            for fault in faults {
                out.push(case(flow, entry, fault));
            }
        }
    }
    // Settlement last: a host that garbles it leaves the batch open; the next one settles it
    // balanced (the books agreed after every case).
    for fault in [Fault::HostGarbage, Fault::None] {
        out.push(case(Flow::Settle, Entry::Swipe, fault));
    }
    out
}

fn case(flow: Flow, entry: Entry, fault: Fault) -> Case {
    let flow_name = match flow {
        Flow::Sale => "sale",
        Flow::PreAuth => "preauth",
        Flow::Balance => "balance",
        Flow::Void => "void",
        Flow::Refund => "refund",
        Flow::Completion => "completion",
        Flow::PreAuthCancel => "preauth-cancel",
        Flow::Settle => "settle",
    };
    let entry_name = match entry {
        _ if flow == Flow::Settle => "batch",
        Entry::Swipe => "swipe",
        Entry::Insert => "insert",
        Entry::Tap => "tap",
    };
    let expect = match fault {
        Fault::None if flow == Flow::Balance => "the balance is shown",
        Fault::None if flow == Flow::Settle => "the batch settles balanced and its list prints",
        _ if flow == Flow::Settle => "the settlement fails and the batch stays open",
        Fault::None => "approved and both slips printed",
        Fault::PaperOutMerchantCopy => "the sale is given up and reversed",
        Fault::PaperOutBetweenCopies => "the sale stands with one slip, nothing reversed",
        Fault::CardPulledAt(_) => "the sale ends without a charge, or is reversed",
        Fault::PcscdRestart => "the reader finds the restarted pcscd and the sale is approved",
        Fault::KilledAt("between-receipts") => {
            "after the restart the sale stands and its slip is reprinted"
        }
        Fault::KilledAt(_) => "after the restart the sale is reversed before anything else",
        _ => "the outcome is unknown and reversed",
    };
    let mut needs = vec![Need::Host, Need::Printer];
    match entry {
        // The cashier's swipe key swipes the test card's stripe (a settlement reads none).
        Entry::Swipe => {}
        Entry::Insert => needs.push(Need::Contact),
        Entry::Tap => needs.push(Need::Contactless),
    }
    Case {
        name: format!("matrix/{flow_name}/{entry_name}/{}", fault.name()),
        proves: format!(
            "{flow_name} by {entry_name}, {}: {expect}; the host's ledger then holds exactly what the journal calls approved",
            fault.name()
        ),
        needs,
        flow,
        entry,
        fault,
    }
}

/// The PIN of the simulated card.
const PIN: &str = "123456";
/// The supervisor password the terminal is configured with.
const SUPERVISOR: &str = "123456";
/// What the matrix waits for an answer before the outcome is unknown.
const HOST_TIMEOUT: Duration = Duration::from_millis(800);

fn open(rig: &Rig) -> Result<App, String> {
    let host = rig.host.selector().ok_or("no host")?;
    let mut s = Settings::demo(host, rig.dir.join("matrix.sqlite"));
    s.printer = rig.printer.selector().map(str::to_string);
    s.reader = rig.contact.selector().map(str::to_string);
    s.contactless = rig.contactless.selector().map(str::to_string);
    s.terminal_id = TERMINAL_ID.into();
    s.merchant_id = MERCHANT_ID.into();
    s.capk = rig.bench.capk.clone();
    s.host_timeout = HOST_TIMEOUT;
    let (terminal, _) = Terminal::open(&s).map_err(|e| format!("sign-in: {e}"))?;
    log_in(App::new(terminal))
}

/// Cashier 01 logs in (password 0000): no transaction starts before an operator is in.
pub(crate) fn log_in(mut app: App) -> Result<App, String> {
    for input in "801".bytes().map(|d| Input::Digit(d - b'0')) {
        app.input(input).map_err(|e| e.to_string())?;
    }
    app.input(Input::Enter).map_err(|e| e.to_string())?;
    for input in "0000".bytes().map(|d| Input::Digit(d - b'0')) {
        app.input(input).map_err(|e| e.to_string())?;
    }
    app.input(Input::Enter).map_err(|e| e.to_string())?;
    app.input(Input::Enter).map_err(|e| e.to_string())?;
    if app.operator().is_none() {
        return Err("cashier 01 could not log in".into());
    }
    Ok(app)
}

/// Sets or clears a fault on the simulators.
fn commit(rig: &mut Rig, fault: Fault, on: bool) -> Result<(), String> {
    let host = rig.host_sim.as_ref().ok_or("needs host-sim")?;
    let f = host.faults();
    match fault {
        Fault::HostGarbage => f.garbage.store(on, Ordering::Release),
        Fault::HostWrongMac => f.wrong_mac.store(on, Ordering::Release),
        Fault::HostOtherTerminal => f.other_terminal.store(on, Ordering::Release),
        Fault::HostDrops => f.drop.store(on, Ordering::Release),
        Fault::HostLate => f.delay_ms.store(
            if on {
                HOST_TIMEOUT.as_millis() as u64 + 400
            } else {
                0
            },
            Ordering::Release,
        ),
        Fault::PaperOutMerchantCopy | Fault::PaperOutBetweenCopies => {
            let printer = rig
                .printer_sim
                .as_ref()
                .ok_or("needs the virtual printer")?;
            match (fault, on) {
                (_, false) => printer.clear_faults(),
                (Fault::PaperOutMerchantCopy, true) => {
                    printer.set_paper(pos_sim::printer::Paper::Out)
                }
                _ => printer.paper_out_after_jobs(Some(1)),
            }
        }
        Fault::CardPulledAt(n) => {
            let faults = pos_sim::vpcd::Faults {
                remove_after: on.then_some(n - 1),
                ..Default::default()
            };
            rig.reinsert_card(faults)?;
        }
        Fault::PcscdRestart if on => {
            pos_sim::pcscd::restart().map_err(|e| format!("pcscd restart: {e}"))?;
            // The card went with the old daemon's vpcd connection.
            rig.reinsert_card(pos_sim::vpcd::Faults::default())?;
        }
        Fault::None | Fault::PcscdRestart | Fault::KilledAt(_) => {}
    }
    Ok(())
}

/// The cashier: answers each screen until the flow is over; returns the screens seen.
/// The transaction a void, refund, completion or cancel names.
#[derive(Debug, Clone, Default)]
struct Original {
    voucher: u32,
    rrn: String,
    auth: String,
    /// `MMDD`, local time.
    date: String,
}

/// The journal's last transaction, as a void, refund, completion or cancel names it.
fn last_original(rig: &Rig) -> Result<Original, String> {
    let mut journal =
        SqliteJournal::open(rig.dir.join("matrix.sqlite")).map_err(|e| e.to_string())?;
    let record = journal
        .last()
        .map_err(|e| e.to_string())?
        .ok_or("no transaction journaled")?;
    let Outcome::Approved { rrn, auth, .. } = &record.outcome else {
        return Err("the original is not approved in the journal".into());
    };
    let local = record
        .created
        .and_then(|secs| pos_hal::DateTime::from_unix(secs, 8 * 3600).ok())
        .ok_or("the original has no time")?;
    Ok(Original {
        voucher: record.voucher,
        rrn: rrn.clone(),
        auth: auth.clone(),
        date: format!("{:02}{:02}", local.month(), local.day()),
    })
}

/// Flows that name an earlier transaction (read by card number only: swipe and insert).
fn needs_original(flow: Flow) -> bool {
    matches!(
        flow,
        Flow::Void | Flow::Refund | Flow::Completion | Flow::PreAuthCancel
    )
}

fn operate(app: &mut App, case: &Case, original: &Original) -> Result<Vec<&'static str>, String> {
    let key = |app: &mut App, i: Input| app.input(i).map_err(|e| e.to_string());
    let digits = |app: &mut App, text: &str| -> Result<(), String> {
        for d in text.bytes() {
            app.input(Input::Digit(d - b'0'))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    let mut seen = Vec::new();
    // Completion and cancel live in the management menu.
    if matches!(case.flow, Flow::Completion | Flow::PreAuthCancel) {
        key(app, Input::Manage)?;
    }
    key(
        app,
        Input::Digit(match case.flow {
            Flow::Sale => 1,
            Flow::Balance => 2,
            Flow::Void => 3,
            Flow::Refund => 4,
            Flow::PreAuth => 5,
            Flow::Completion => 8,
            Flow::PreAuthCancel => 9,
            Flow::Settle => 6,
        }),
    )?;
    let mut presented = 0;
    for _ in 0..40 {
        let screen = app.screen_name();
        seen.push(screen);
        match screen {
            "Amount" => {
                digits(app, "1234")?;
                key(app, Input::Enter)?;
            }
            "PresentCard" | "InsertChip" => {
                // A card that failed (pulled) is not presented again: the sale ends.
                if presented > 0 {
                    if !app.message().is_empty() {
                        seen.push("(device error)");
                        eprintln!("matrix: {}: {}", case.name, app.message());
                    }
                    key(app, Input::Cancel)?;
                    continue;
                }
                presented += 1;
                key(
                    app,
                    match case.entry {
                        Entry::Swipe => Input::Swipe,
                        Entry::Insert => Input::Insert,
                        Entry::Tap => Input::Tap,
                    },
                )?;
            }
            "EnterPin" | "WrongPin" => {
                digits(app, PIN)?;
                key(app, Input::Enter)?;
            }
            "SupervisorPassword" => {
                digits(app, SUPERVISOR)?;
                key(app, Input::Enter)?;
            }
            "VoucherNumber" => {
                digits(app, &original.voucher.to_string())?;
                key(app, Input::Enter)?;
            }
            "OriginalReference" => {
                digits(app, &original.rrn)?;
                key(app, Input::Enter)?;
            }
            "OriginalDate" => {
                digits(app, &original.date)?;
                key(app, Input::Enter)?;
            }
            "OriginalAuthCode" => {
                digits(app, &original.auth)?;
                key(app, Input::Enter)?;
            }
            // Paper out: the merchant copy is given up (the sale is reversed), the cardholder
            // copy skipped.
            "PrinterProblem" => key(app, Input::Cancel)?,
            "Done" | "Ended" => {
                key(app, Input::Enter)?;
                return Ok(seen);
            }
            "Home" => return Ok(seen),
            _ => key(app, Input::Enter)?,
        }
    }
    Err(format!("the flow did not end: {}", seen.join(" → ")))
}

/// Approved STANs with their amounts: the terminal's journal and the host's ledger.
fn books(rig: &Rig) -> Result<(Books, Books), String> {
    let mut journal =
        SqliteJournal::open(rig.dir.join("matrix.sqlite")).map_err(|e| e.to_string())?;
    let batch = journal.batch().map_err(|e| e.to_string())?;
    let mut terminal: Books = Vec::new();
    for b in 1..=batch {
        for r in journal.records(b).map_err(|e| e.to_string())? {
            let Ok(request) = pos_terminal::iso8583::Message::unpack(&r.request) else {
                return Err(format!("journal record {} does not unpack", r.id));
            };
            // Balance inquiries move no money: the books are about money.
            let balance = request.processing_code().ok().flatten().as_deref() == Some("310000");
            if matches!(r.outcome, Outcome::Approved { .. }) && !balance {
                let amount = request.amount().ok().flatten().map_or(0, |a| a.minor());
                terminal.push((r.stan, amount));
            }
        }
    }
    let db =
        rusqlite::Connection::open(rig.dir.join("ledger.sqlite")).map_err(|e| e.to_string())?;
    let mut stmt = db
        .prepare(
            "SELECT stan, amount FROM txns WHERE tid = ?1 AND rc = '00' AND state != 'reversed' \
             AND kind NOT IN ('balance', 'reversal') ORDER BY stan",
        )
        .map_err(|e| e.to_string())?;
    let host: Books = stmt
        .query_map([TERMINAL_ID], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    terminal.sort_unstable();
    Ok((terminal, host))
}

fn whole_jobs(rig: &Rig) -> usize {
    rig.printer_sim
        .as_ref()
        .map_or(0, |p| p.jobs().iter().filter(|j| j.complete).count())
}

/// What the screens and the printer should have shown for the case's fault, and did not.
fn misbehaviour(case: &Case, seen: &[&str], printed: usize) -> Option<String> {
    let saw = |s: &str| seen.contains(&s);
    let money = matches!(case.flow, Flow::Sale | Flow::PreAuth) || needs_original(case.flow);
    let wrong = match case.fault {
        Fault::None if case.flow == Flow::Settle => !saw("SettlementTotals") || printed != 1,
        _ if case.flow == Flow::Settle => !saw("Ended") || printed != 0,
        Fault::None | Fault::PcscdRestart if money => !saw("TearReceipt") || printed != 2,
        Fault::None | Fault::PcscdRestart => !saw("Balance") || printed != 0,
        f if f.host() => {
            saw("Approved") || saw("TearReceipt") || printed != 0 || (money && !saw("Reversing"))
        }
        Fault::PaperOutMerchantCopy => !saw("PrinterProblem") || !saw("Reversing") || printed != 0,
        Fault::PaperOutBetweenCopies => {
            !saw("TearReceipt") || !saw("PrinterProblem") || saw("Reversing") || printed != 1
        }
        // Ended without a completed transaction, or reversed (the books then agree).
        Fault::CardPulledAt(_) => saw("TearReceipt") || saw("Balance") || printed != 0,
        _ => false,
    };
    wrong.then(|| {
        format!(
            "expected: {} ({printed} slip(s) printed)",
            case.proves.split(':').nth(1).unwrap_or("").trim()
        )
    })
}

/// Approved money transactions (STAN, amount).
type Books = Vec<(u32, u64)>;

/// The `pos` runner next to this program (cargo puts every binary of the workspace in one
/// directory).
fn pos_binary() -> Result<std::path::PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no directory")?;
    // Test binaries live one level down, in deps/.
    [dir.join("pos"), dir.join("../pos")]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "the pos runner is not built beside {}: cargo build -p pos-examples --bin pos",
                exe.display()
            )
        })
}

/// The `pos` runner on the matrix terminal's journal with this script.
fn run_pos(
    rig: &Rig,
    flow: &str,
    script: &str,
    kill_at: Option<&str>,
) -> Result<std::process::Output, String> {
    let path = rig.dir.join(format!("pos-{flow}.txt"));
    std::fs::write(&path, script).map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(pos_binary()?);
    cmd.args(["--host", rig.host.selector().ok_or("no host")?])
        .args(["--printer", rig.printer.selector().ok_or("no printer")?])
        .arg("--journal")
        .arg(rig.dir.join("matrix.sqlite"))
        .args(["--terminal-id", TERMINAL_ID, "--merchant-id", MERCHANT_ID])
        .args(["--flow", flow])
        .arg("--script")
        .arg(&path);
    if let Some(step) = kill_at {
        cmd.args(["--kill-at", step]);
    }
    cmd.output().map_err(|e| format!("pos: {e}"))
}

const SWIPE: &str = "swipe ;6212345678901232=30121011234567890?";

/// A swiped transaction by the `pos` runner, killed at `step`; then the terminal restarts.
fn killed(rig: &mut Rig, flow: Flow, step: &str) -> Result<String, String> {
    let sale = format!("keys 1234\nenter\n{SWIPE}\nenter\nenter\nexpect screen Done\n");
    let original = if needs_original(flow) {
        let out = run_pos(rig, "sale", &sale, None)?;
        if !out.status.success() {
            return Err(format!(
                "the sale to name failed: {}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        last_original(rig)?
    } else {
        Original::default()
    };
    let (name, script) = match flow {
        Flow::PreAuth => ("preauth", sale),
        Flow::Void => (
            "void",
            format!(
                "keys {SUPERVISOR}\nenter\nkeys {}\nenter\nenter\n{SWIPE}\nenter\nexpect screen Done\n",
                original.voucher
            ),
        ),
        Flow::Refund => (
            "refund",
            format!(
                "keys {SUPERVISOR}\nenter\n{SWIPE}\nkeys {}\nenter\nkeys {}\nenter\nkeys 1234\nenter\nenter\nexpect screen Done\n",
                original.rrn, original.date
            ),
        ),
        _ => ("sale", sale),
    };
    let jobs_before = whole_jobs(rig);
    let out = run_pos(rig, name, &script, Some(step))?;
    {
        use std::os::unix::process::ExitStatusExt;
        if out.status.signal() != Some(9) {
            return Err(format!(
                "pos was not killed at {step}: {:?}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout)
            ));
        }
    }
    // Power back: sign-in, then the queued reversals go out before anything else.
    let mut app = open(rig)?;
    let reversed = app
        .terminal_mut()
        .flush_reversals()
        .map_err(|e| e.to_string())?;
    let mut detail = format!("killed at {step}; {reversed} reversal(s) after the restart");
    if step == "between-receipts" {
        if reversed != 0 {
            return Err(format!("an approved, printed sale was reversed: {detail}"));
        }
        // The cardholder copy is lost with the power: it is reprinted from the journal.
        for input in [Input::Digit(7), Input::Digit(1)] {
            app.input(input).map_err(|e| e.to_string())?;
        }
        let jobs = rig
            .printer_sim
            .as_ref()
            .map(|p| p.jobs())
            .unwrap_or_default();
        let reprint = jobs.last().map(|j| j.transcript()).unwrap_or_default();
        if whole_jobs(rig) != jobs_before + 2 || !reprint.contains("REPRINT") {
            return Err(format!(
                "the slip was not reprinted after the restart: {detail}"
            ));
        }
        detail.push_str(", slip reprinted");
    } else if reversed != 1 {
        return Err(format!("the interrupted sale was not reversed: {detail}"));
    }
    Ok(detail)
}

/// Runs one case.
pub fn run(rig: &mut Rig, case: &Case) -> Result<String, String> {
    if let Fault::KilledAt(step) = case.fault {
        let detail = killed(rig, case.flow, step)?;
        return balanced(rig, &detail);
    }
    let mut app = open(rig)?;
    // A void or refund needs a sale, a completion or cancel a pre-authorisation: made first,
    // cleanly, with the same card.
    let original = if needs_original(case.flow) {
        let first = if matches!(case.flow, Flow::Completion | Flow::PreAuthCancel) {
            Flow::PreAuth
        } else {
            Flow::Sale
        };
        let sale = Case {
            flow: first,
            fault: Fault::None,
            ..case.clone()
        };
        let seen = operate(&mut app, &sale, &Original::default())?;
        if !seen.contains(&"TearReceipt") {
            return Err(format!("the original sale failed: {}", seen.join(" → ")));
        }
        last_original(rig)?
    } else {
        Original::default()
    };
    let jobs_before = whole_jobs(rig);
    commit(rig, case.fault, true)?;
    let operated = operate(&mut app, case, &original);
    // Faults off before the reversals go out (a host still garbling would keep them queued).
    let cleared = commit(rig, case.fault, false);
    let seen = operated?;
    cleared?;
    let flushed = app.terminal_mut().flush_reversals();
    drop(app);
    flushed.map_err(|e| e.to_string())?;
    let printed = whole_jobs(rig) - jobs_before;
    let path = seen.join(" → ");
    if let Some(wrong) = misbehaviour(case, &seen, printed) {
        return Err(format!("{wrong}: {path}"));
    }
    if case.flow == Flow::Settle && case.fault == Fault::None {
        let list = rig
            .printer_sim
            .as_ref()
            .and_then(|p| p.jobs().last().map(|j| j.transcript()))
            .unwrap_or_default();
        if !list.contains("对账平 BALANCED") {
            return Err(format!("the settlement did not balance: {list}"));
        }
    }
    balanced(rig, &path)
}

/// The books after `what`: the same approvals on both sides, or the difference.
fn balanced(rig: &Rig, what: &str) -> Result<String, String> {
    let (terminal, host) = books(rig)?;
    if terminal != host {
        return Err(format!(
            "the books differ after {what}: terminal approved {terminal:?}, host booked {host:?}"
        ));
    }
    Ok(format!("{what}; {} approved on both sides", terminal.len()))
}
