//! Power loss during a sale: the headless POS is SIGKILLed at each journal step, restarted, and
//! sells again. host-sim's ledger is the referee: the card is charged exactly for the sales the
//! terminal kept, a reversal went out exactly when the outcome was unknown, and the terminal's
//! journal agrees with the ledger.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Dir, Stage, pos_command};
use pos_platform::SqliteJournal;
use pos_sim::acquirer::{HostConfig, HostSim};
use pos_sim::printer::VirtualPrinter;
use pos_terminal::journal::{Journal, Outcome};

const PAN: &str = "6212345678901232";

struct Bench {
    dir: Dir,
    host: HostSim,
    printer: VirtualPrinter,
    start_balance: i64,
}

impl Bench {
    fn new(name: &str) -> Self {
        let Stage { dir, host, printer } = Stage::new("power", name);
        let start_balance = HostConfig::demo(dir.0.join("ledger.sqlite"))
            .accounts
            .iter()
            .find(|a| a.pan == PAN)
            .map(|a| a.balance)
            .expect("demo account");
        Self {
            dir,
            host,
            printer,
            start_balance,
        }
    }

    fn journal(&self) -> PathBuf {
        self.dir.0.join("journal.sqlite")
    }

    fn command(&self, script: &Path) -> Command {
        pos_command("sale", &self.host, &self.printer, &self.journal(), script)
    }

    /// Runs a sale of `amount` (digits as typed) to the end; returns the exit code and output.
    fn sale(&self, amount: &str, kill_at: Option<&str>) -> (Option<i32>, String) {
        let script = self.dir.0.join(format!("sale-{amount}.txt"));
        std::fs::write(
            &script,
            format!(
                "keys {amount}\nenter\nswipe ;{PAN}=30121011234567890?\nenter\nenter\nexpect screen Done\n"
            ),
        )
        .expect("script");
        let mut cmd = self.command(&script);
        if let Some(step) = kill_at {
            cmd.arg("--kill-at").arg(step);
        }
        let out = cmd.output().expect("pos runs");
        (
            out.status.code(),
            format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn ledger(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.0.join("ledger.sqlite")).expect("ledger")
    }

    fn balance(&self) -> i64 {
        self.ledger()
            .query_row("SELECT balance FROM accounts WHERE pan = ?1", [PAN], |r| {
                r.get(0)
            })
            .expect("balance")
    }

    /// Reversals the host acted on: a reversed original, or one that came before its original.
    fn reversals(&self) -> i64 {
        self.ledger()
            .query_row(
                "SELECT COUNT(*) FROM txns WHERE kind = 'reversal' OR state = 'reversed'",
                [],
                |r| r.get(0),
            )
            .expect("count")
    }

    fn ledger_count(&self, kind: &str) -> i64 {
        self.ledger()
            .query_row("SELECT COUNT(*) FROM txns WHERE kind = ?1", [kind], |r| {
                r.get(0)
            })
            .expect("count")
    }

    /// The outcomes of the terminal's journal, oldest first.
    fn outcomes(&self) -> Vec<Outcome> {
        let mut journal = SqliteJournal::open(self.journal()).expect("journal");
        let batch = journal.batch().expect("batch");
        journal
            .records(batch)
            .expect("records")
            .into_iter()
            .map(|r| r.outcome)
            .collect()
    }
}

fn killed(code: Option<i32>) -> bool {
    code.is_none()
}

#[test]
fn killed_after_journaling_before_sending_the_sale_is_reversed_and_never_charged() {
    let bench = Bench::new("before-send");
    let (code, out) = bench.sale("5000", Some("before-send"));
    assert!(killed(code), "{out}");
    assert_eq!(bench.outcomes(), vec![Outcome::Pending]);
    assert_eq!(bench.ledger_count("sale"), 0, "nothing reached the host");

    let (code, out) = bench.sale("1234", None);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(bench.balance(), bench.start_balance - 1234, "{out}");
    // The terminal cannot know the request never left: the reversal goes out all the same.
    assert_eq!(bench.reversals(), 1);
    let outcomes = bench.outcomes();
    assert_eq!(outcomes[0], Outcome::Reversed, "{outcomes:?}");
    assert!(
        matches!(outcomes[1], Outcome::Approved { .. }),
        "{outcomes:?}"
    );
}

#[test]
fn killed_after_the_host_charged_the_sale_is_reversed_before_the_next_one() {
    let bench = Bench::new("after-answer");
    let (code, out) = bench.sale("5000", Some("after-answer"));
    assert!(killed(code), "{out}");
    assert_eq!(
        bench.balance(),
        bench.start_balance - 5000,
        "the host charged"
    );
    assert_eq!(bench.outcomes(), vec![Outcome::Pending]);
    assert_eq!(
        bench.printer.jobs().len(),
        0,
        "no slip for an unknown outcome"
    );

    let (code, out) = bench.sale("1234", None);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(bench.balance(), bench.start_balance - 1234, "refunded once");
    assert_eq!(bench.reversals(), 1);
    let outcomes = bench.outcomes();
    assert_eq!(outcomes[0], Outcome::Reversed, "{outcomes:?}");
    assert!(
        matches!(outcomes[1], Outcome::Approved { .. }),
        "{outcomes:?}"
    );
}

#[test]
fn killed_while_waiting_for_the_answer_the_sale_is_reversed_before_the_next_one() {
    let bench = Bench::new("waiting");
    bench
        .host
        .faults()
        .delay_ms
        .store(2_000, std::sync::atomic::Ordering::Relaxed);
    let script = bench.dir.0.join("slow.txt");
    std::fs::write(
        &script,
        format!("keys 5000\nenter\nswipe ;{PAN}=30121011234567890?\nenter\n"),
    )
    .expect("script");
    let mut child = bench
        .command(&script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pos starts");
    // The sign-in is slow too (the delay stays under the terminal's timeout); the sale is in
    // flight once the host has charged it, the answer two seconds away.
    let deadline = Instant::now() + Duration::from_secs(120);
    while bench.ledger_count("sale") == 0 {
        assert!(Instant::now() < deadline, "the sale never reached the host");
        assert!(child.try_wait().expect("wait").is_none(), "pos ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    bench
        .host
        .faults()
        .delay_ms
        .store(0, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(bench.balance(), bench.start_balance - 5000);

    let (code, out) = bench.sale("1234", None);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(bench.balance(), bench.start_balance - 1234, "refunded once");
    assert_eq!(bench.reversals(), 1);
    assert_eq!(bench.outcomes()[0], Outcome::Reversed);
}

#[test]
fn killed_between_the_two_receipts_the_sale_stands_and_no_reversal_goes_out() {
    let bench = Bench::new("between-receipts");
    let (code, out) = bench.sale("5000", Some("between-receipts"));
    assert!(killed(code), "{out}");
    assert_eq!(bench.printer.jobs().len(), 1, "the merchant copy");

    let (code, out) = bench.sale("1234", None);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(bench.balance(), bench.start_balance - 5000 - 1234);
    assert_eq!(bench.reversals(), 0);
    let outcomes = bench.outcomes();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Approved { .. })),
        "{outcomes:?}"
    );
}
