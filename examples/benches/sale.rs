//! A whole sale as the merchant sees it — amount typed, card swiped and confirmed, online
//! authorisation (sign-in keys, MAC, journal written and synced before and after), merchant copy,
//! tear prompt, cardholder copy — on the real stacks: host-sim over TCP with its SQLite ledger,
//! the virtual ESC/POS printer over TCP with status checks, the SQLite journal (WAL, FULL).
//! Zero host delay. Goal: p99 < 50 ms. Baseline measured in the same run: one journal
//! transaction (begin + finish), the part of a sale that is the terminal's own disk cost.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pos_examples::headless::{Settings, Terminal};
use pos_hal::Key;
use pos_platform::SqliteJournal;
use pos_sim::acquirer::{HostConfig, HostSim};
use pos_sim::printer::VirtualPrinter;
use pos_terminal::flows::{Action, Event, SaleConfig, SaleFlow, Screen};
use pos_terminal::journal::{Journal, Outcome};

/// One sale of RMB 0.01; `true` when it ended approved with both copies printed.
fn sale(t: &mut Terminal) -> bool {
    let printed = t.printed;
    let (mut flow, _) = SaleFlow::start(SaleConfig::default());
    flow.on(Event::Key(Key::Digit(1)));
    flow.on(Event::Key(Key::Enter));
    let Ok(swipe) = t.card_event("swipe ;6212345678901232=30121011234567890?") else {
        return false;
    };
    let mut step = flow.on(swipe);
    loop {
        let event = match &step.action {
            Action::Finish => break,
            Action::WaitKey { .. } => Event::Key(Key::Enter),
            other => match t.perform(other, &flow) {
                Some(e) => e,
                None => return false,
            },
        };
        step = flow.on(event);
    }
    step.screen == Screen::Done && t.printed == printed + 2
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("pos-sale-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let Ok(host) = HostSim::start(HostConfig::demo(dir.join("ledger.sqlite"))) else {
        eprintln!("host-sim did not start");
        return;
    };
    let Ok(printer) = VirtualPrinter::tcp(0, 384, None) else {
        eprintln!("the virtual printer did not start");
        return;
    };
    let mut settings = Settings::demo(host.addr().to_string(), dir.join("journal.sqlite"));
    settings.printer = Some(format!("escpos:tcp:{}", printer.endpoint()));
    let mut terminal = match Terminal::open(&settings) {
        Ok((t, _)) => t,
        Err(e) => {
            eprintln!("terminal: {e}");
            return;
        }
    };
    assert!(
        sale(&mut terminal),
        "a sale must succeed before it is timed"
    );

    let mut times = Vec::new();
    let mut group = c.benchmark_group("sale");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("card present to both receipts", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let ok = sale(&mut terminal);
                let took = start.elapsed();
                assert!(ok, "sale failed");
                times.push(took);
                total += took;
            }
            total
        })
    });

    let mut journal = match SqliteJournal::open(dir.join("baseline.sqlite")) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("journal: {e}");
            return;
        }
    };
    let approved = Outcome::Approved {
        rrn: "000000000001".into(),
        auth: "123456".into(),
        host_time: "1201093015".into(),
    };
    let request = [0u8; 120];
    group.bench_function("baseline: journal begin + finish", |b| {
        b.iter(|| {
            let stan = journal.next_stan().expect("stan");
            let record = journal.begin(stan, &request).expect("begin");
            journal.finish(record.id, &approved).expect("finish");
        })
    });
    group.finish();

    times.sort();
    println!(
        "sale: {} sales, p50 {:?}, p99 {:?}, max {:?} (goal p99 < 50 ms)",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default()
    );
    drop(host);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
