//! `pos`: the terminal without a screen — the sale flow of `pos-terminal` on real devices and
//! the real host link, driven by a script, every screen printed as text.
//!
//! ```text
//! pos --host 127.0.0.1:5000 --printer escpos:tcp:127.0.0.1:9100 --reader 'pcsc:~PCD 00 00' \
//!     --journal pos.sqlite --script sale.txt
//! pos --devices examples/devices.toml --script sale.txt
//! ```
//! `--flow balance` runs a balance inquiry, `--flow void` the void of a sale of the open batch
//! (supervisor password, voucher number, the same card), `--flow refund` a refund (supervisor
//! password, card, original reference number and date, amount) instead of a sale;
//! `--flow startup` powers on signed out and signs in through the power-on screens,
//! `--flow self-check`, `--flow network`, `--flow records`, `--flow operators` and `--flow
//! password` run those menu functions. Script lines (`#` starts a comment): `keys 5000`, `key 5`, `enter`, `cancel`, `clear`,
//! `timeout`, `swipe ;PAN=YYMMSSS…?` (the track given in the script), `swipe` (waits for a real
//! swipe on `--magstripe`), `scan CODE` / `scan` (a payment code given, or read by `--scanner`,
//! for `--flow scan`), `insert` (waits for a card in `--reader`), `pin 123456` (the software PIN pad), and checks:
//! `expect screen NAME`, `expect contains TEXT`, `expect lacks TEXT`, `expect printed N`. The exit status is 0 only
//! when the flow ended, every check held and every line was used.

use std::collections::VecDeque;
use std::process::ExitCode;

use clap::Parser;
use pos_examples::headless::{KillAt, PosError, Terminal};
use pos_terminal::flows::{
    Action, Flow, LoginFlow, OperatorAdminFlow, RecordsFlow, RefundConfig, RefundFlow, ReprintFlow,
    SaleConfig, SaleFlow, ScanFlow, Screen, SelfCheckFlow, SettlementFlow, StartupFlow, Step,
    VoidConfig, VoidFlow,
};

/// The flows the runner can drive.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum FlowKind {
    /// 消费.
    Sale,
    /// 余额查询.
    Balance,
    /// 消费撤销 (the supervisor's password, `00` of the operator table).
    Void,
    /// 退货 (supervisor password, card, original reference and date, amount).
    Refund,
    /// 结算: totals confirmed, 0500, batch upload when the host's totals differ, the list.
    Settle,
    /// 操作员登录: operator number and password (cashier 01 / 0000 on a new terminal).
    Login,
    /// 预授权: amount, card, online, two receipts.
    Preauth,
    /// 预授权完成: card, authorisation code, date, amount.
    Completion,
    /// 预授权撤销: supervisor password, card, authorisation code, date, amount.
    PreauthCancel,
    /// 重打印: the last transaction's merchant copy, or one by voucher number.
    Reprint,
    /// 扫码支付: amount, the customer's payment code scanned, online, two receipts.
    Scan,
    /// 扫码支付 (the customer scans the terminal's QR): amount, order, QR shown and asked
    /// after every second until paid (a `cancel` line closes it), two receipts.
    ScanQr,
    /// 开机: the power-on check of every device, then sign-in on a key press (Enter tries
    /// again after a failure, with its cause shown), then the forced settlement when due.
    Startup,
    /// 设备自检: key test, every device, the network; Enter prints the report.
    SelfCheck,
    /// 网络检测: echo tests with their round-trip times.
    Network,
    /// 交易查询: the open batch's transactions, newest first (Enter: older, Clear: back).
    Records,
    /// 操作员管理: the supervisor adds, removes or resets cashiers.
    Operators,
    /// 修改密码: operator `--operator` changes their own password.
    Password,
}

#[derive(Parser, Debug)]
#[command(
    version,
    about = "The POS sale flow, headless, on real devices, driven by a script"
)]
struct Args {
    /// The flow to run.
    #[arg(long, value_enum, default_value = "sale")]
    flow: FlowKind,
    /// The operator whose password `--flow password` changes.
    #[arg(long, default_value = "01")]
    operator: String,
    #[command(flatten)]
    terminal: pos_examples::terminal_args::TerminalArgs,
    /// The script.
    #[arg(long)]
    script: std::path::PathBuf,
    /// Kill this process (SIGKILL) at a step of the sale — the power-loss tests use it.
    #[arg(long, value_enum, hide = true)]
    kill_at: Option<KillAt>,
}
fn expand(text: &str) -> VecDeque<String> {
    let mut out = VecDeque::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(digits) = line.strip_prefix("keys ") {
            out.extend(
                digits
                    .chars()
                    .filter(char::is_ascii_digit)
                    .map(|d| format!("key {d}")),
            );
        } else {
            out.push_back(line.to_string());
        }
    }
    out
}
fn run(args: &Args) -> Result<bool, PosError> {
    let text = std::fs::read_to_string(&args.script)
        .map_err(|e| PosError::Script(args.script.display().to_string(), e))?;
    let mut script = expand(&text);
    let mut settings = args.terminal.settings()?;
    settings.kill_at = args.kill_at;
    let startup = matches!(args.flow, FlowKind::Startup);
    // The network check needs no keys: it is what an operator runs when sign-in fails.
    let signed_out = startup || matches!(args.flow, FlowKind::Network);
    let mut t = if signed_out {
        Terminal::open_signed_out(&settings, Box::new(|_| {}))?
    } else {
        let (t, batch) = Terminal::open(&settings)?;
        println!("=== signed in, batch {batch:06}");
        t
    };
    if !signed_out && let Some(report) = t.settle_if_due()? {
        println!(
            "=== forced settlement of batch {:06}: {}, {} uploaded",
            report.batch,
            if report.balanced {
                "balanced"
            } else {
                "not balanced"
            },
            report.uploaded
        );
    }

    let (mut flow, mut step): (Box<dyn Flow>, Step) = match args.flow {
        FlowKind::Sale => boxed(SaleFlow::start(SaleConfig::default())),
        FlowKind::Balance => boxed(SaleFlow::balance(SaleConfig::default())),
        FlowKind::Void => boxed(VoidFlow::start(VoidConfig::new(t.operators()?))),
        FlowKind::Refund => boxed(RefundFlow::start(RefundConfig::new(t.operators()?))),
        FlowKind::Settle => boxed(SettlementFlow::start(std::time::Duration::from_secs(60))),
        FlowKind::Preauth => boxed(SaleFlow::preauth(SaleConfig::default())),
        FlowKind::Completion => boxed(RefundFlow::completion(RefundConfig::new(t.operators()?))),
        FlowKind::PreauthCancel => boxed(RefundFlow::preauth_cancel(RefundConfig::new(
            t.operators()?,
        ))),
        FlowKind::Reprint => boxed(ReprintFlow::start(std::time::Duration::from_secs(60))),
        FlowKind::Scan => boxed(ScanFlow::start(std::time::Duration::from_secs(60))),
        FlowKind::ScanQr => boxed(ScanFlow::show_qr(
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(1),
        )),
        FlowKind::Startup => boxed(StartupFlow::start(std::time::Duration::from_secs(60))),
        FlowKind::SelfCheck => boxed(SelfCheckFlow::start(std::time::Duration::from_secs(60))),
        FlowKind::Network => boxed(SelfCheckFlow::network(std::time::Duration::from_secs(60))),
        FlowKind::Records => boxed(RecordsFlow::start(std::time::Duration::from_secs(60))),
        FlowKind::Operators => boxed(OperatorAdminFlow::start(
            t.operators()?,
            std::time::Duration::from_secs(60),
        )),
        FlowKind::Password => boxed(OperatorAdminFlow::change_own(
            t.operators()?,
            &args.operator,
            std::time::Duration::from_secs(60),
        )),
        FlowKind::Login => boxed(LoginFlow::start(
            t.operators()?,
            std::time::Duration::from_secs(60),
        )),
    };
    let mut ok = true;
    loop {
        println!("--- {}\n{}", step.screen.name(), step.screen);
        if let Screen::LoggedIn { operator, .. } = &step.screen {
            t.set_operator(operator);
        }
        // Checks describe the screen a person would look at: the one waiting for them.
        let waits_for_script = matches!(
            step.action,
            Action::Finish
                | Action::WaitKey { .. }
                | Action::WaitCard { .. }
                | Action::ScanCode { .. }
                | Action::GetPin { .. }
        );
        while let Some(check) = script
            .front()
            .filter(|_| waits_for_script)
            .and_then(|l| l.strip_prefix("expect "))
            .map(str::to_string)
        {
            script.pop_front();
            ok &= expectation(&check, &step.screen, t.printed);
        }
        let event = match &step.action {
            Action::Finish => break,
            Action::WaitKey { .. } => {
                let line = script.pop_front().ok_or(PosError::ScriptEnded("a key"))?;
                Terminal::key_event(&line).ok_or(PosError::Unexpected(line, "a key"))?
            }
            Action::WaitCard { .. } => {
                let line = script.pop_front().ok_or(PosError::ScriptEnded("a card"))?;
                t.card_event(&line)?
            }
            Action::GetPin { .. } => {
                let line = script.pop_front().ok_or(PosError::ScriptEnded("a PIN"))?;
                t.pin(&line)?
            }
            Action::ScanCode { .. } => {
                let line = script.pop_front().ok_or(PosError::ScriptEnded("a scan"))?;
                t.scan_event(&line)?
            }
            // The QR shows: a `cancel` line is the operator giving up; otherwise wait, ask.
            Action::QueryOrder { after, .. } => {
                if script.front().is_some_and(|l| l == "cancel") {
                    script.pop_front();
                    pos_terminal::flows::Event::Key(pos_hal::Key::Cancel)
                } else {
                    std::thread::sleep(*after);
                    match t.perform(&step.action, flow.as_ref()) {
                        Some(event) => event,
                        None => break,
                    }
                }
            }
            other => match t.perform(other, flow.as_ref()) {
                Some(event) => event,
                None => break,
            },
        };
        step = flow.on(event);
    }
    if startup
        && matches!(step.screen, Screen::SignedIn { .. })
        && let Some(report) = t.settle_if_due()?
    {
        println!("=== forced settlement of batch {:06}", report.batch);
    }
    for line in script {
        match line.strip_prefix("expect ") {
            Some(check) => {
                ok &= expectation(check, &step.screen, t.printed);
            }
            None => {
                println!("FAIL unused script line {line:?}");
                ok = false;
            }
        }
    }
    Ok(ok)
}
fn boxed<F: Flow + 'static>((flow, step): (F, Step)) -> (Box<dyn Flow>, Step) {
    (Box::new(flow), step)
}

/// Whether the check holds for what is shown and printed; prints the verdict.
fn expectation(check: &str, screen: &Screen, printed: usize) -> bool {
    let held = holds(check, screen, printed);
    println!("{} expect {check}", if held { "ok  " } else { "FAIL" });
    held
}

fn holds(check: &str, screen: &Screen, printed: usize) -> bool {
    if let Some(name) = check.strip_prefix("screen ") {
        screen.name() == name.trim()
    } else if let Some(text) = check.strip_prefix("contains ") {
        screen.to_string().contains(text.trim())
    } else if let Some(text) = check.strip_prefix("lacks ") {
        !screen.to_string().contains(text.trim())
    } else if let Some(n) = check.strip_prefix("printed ") {
        n.trim().parse::<usize>().is_ok_and(|n| n == printed)
    } else {
        false
    }
}

fn main() -> ExitCode {
    pos_examples::init_tracing();
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("pos: {e}");
            ExitCode::from(2)
        }
    }
}
