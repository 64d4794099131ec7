//! `sim-devices`: the serial peripherals a person "uses" in the demo — a magstripe reader and
//! a code scanner, each on a pty — driven over a TCP control port, so the POS screen's keys
//! can swipe a card or scan a code on real serial devices.
//!
//! ```text
//! sim-devices [--control-port 0]
//! ```
//! Prints `sim-devices: ready on msr=/dev/pts/N,scanner=/dev/pts/M,control=127.0.0.1:P` and
//! runs until stopped. Control lines (answered `ok` or `error: …`): `swipe <card>` (`unionpay-debit`,
//! `chip-card`, `misread-track1`, `garbage`) and `scan <code>`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use pos_sim::msr::{Framing, MsrEmulator, SwipeCard};
use pos_sim::scanner::ScannerEmulator;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "A magstripe reader and a code scanner on ptys, driven over TCP"
)]
struct Args {
    /// Control port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    control_port: u16,
}

/// One control line; the answer to send back.
fn command(line: &str, msr: &MsrEmulator, scanner: &ScannerEmulator) -> String {
    let result = match line.split_once(' ') {
        Some(("swipe", card)) => match SwipeCard::builtin(card.trim()) {
            Some(card) => msr.swipe(&card, Framing::StxEtx),
            None => return format!("error: no card {card:?}"),
        },
        Some(("scan", code)) => scanner.scan(code.trim()),
        _ => return format!("error: unknown command {line:?}"),
    };
    match result {
        Ok(()) => "ok".into(),
        Err(e) => format!("error: {e}"),
    }
}

fn main() -> ExitCode {
    pos_sim::init_tracing();
    let args = Args::parse();
    let devices = MsrEmulator::start().and_then(|m| Ok((m, ScannerEmulator::start()?)));
    let (msr, scanner) = match devices {
        Ok((m, s)) => (Arc::new(m), Arc::new(s)),
        Err(e) => {
            eprintln!("sim-devices: cannot open a pty: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(("127.0.0.1", args.control_port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sim-devices: control port: {e}");
            return ExitCode::FAILURE;
        }
    };
    let control = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!(
        "sim-devices: ready on msr={},scanner={},control={control}",
        msr.path(),
        scanner.path()
    );
    for stream in listener.incoming().flatten() {
        let (msr, scanner) = (Arc::clone(&msr), Arc::clone(&scanner));
        std::thread::spawn(move || {
            let Ok(mut out) = stream.try_clone() else {
                return;
            };
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let answer = command(line.trim(), &msr, &scanner);
                if writeln!(out, "{answer}").is_err() {
                    break;
                }
            }
        });
    }
    ExitCode::SUCCESS
}
