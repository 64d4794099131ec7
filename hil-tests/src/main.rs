//! pos-hil --bench FILE [--out DIR] [--fault host-garbage|printer-paper-out]
//!
//! Runs the scenario matrix on the bench, writes `junit.xml` and `report.html` to `--out`
//! (default `target/hil/<bench name>`), and exits non-zero when a scenario failed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pos_hil::{Bench, Fault, Rig, run_all};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Run the POS scenario matrix on a bench (simulators or real devices)"
)]
struct Args {
    /// The bench description (`hil-tests/benches/sim.toml`).
    #[arg(long)]
    bench: PathBuf,
    /// Where the reports go.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Make a simulator misbehave for the whole run (the runner must then fail).
    #[arg(long, value_enum)]
    fault: Vec<Fault>,
    /// Run only the scenarios whose name starts with this (`printer/`, `pos/sale-chip`).
    #[arg(long)]
    only: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let bench = match Bench::load(&args.bench) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("pos-hil: {e}");
            return ExitCode::from(2);
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("target").join("hil").join(&bench.name));
    let mut rig = match Rig::start(bench, &out.join("scratch"), &args.fault) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pos-hil: {e}");
            return ExitCode::from(2);
        }
    };
    println!("bench {}: {:?}", rig.bench.name, rig);
    let report = run_all(&mut rig, args.only.as_deref());
    drop(rig);
    let written = std::fs::create_dir_all(&out)
        .and_then(|()| std::fs::write(out.join("junit.xml"), report.junit()))
        .and_then(|()| std::fs::write(out.join("report.html"), report.html_in(&out)));
    if let Err(e) = written {
        eprintln!(
            "pos-hil: cannot write the reports to {}: {e}",
            out.display()
        );
        return ExitCode::from(2);
    }
    println!(
        "{} scenarios: {} failed, {} skipped; reports in {}",
        report.results.len(),
        report.failures(),
        report.skipped(),
        out.display()
    );
    if report.failures() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
