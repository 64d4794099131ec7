//! `sim-card`: attach a simulated EMV card to pcscd's vpcd reader.
//!
//! ```text
//! sim-card --port 35963 --profile sim/profiles/unionpay-debit.toml [--t0] [--remove-after N]
//!          [--delay-ms MS] [--mute] [--garbage-atr] [--reinsert]
//! ```
//! The card stays inserted until the process ends or vpcd closes the connection (pcscd
//! stopped); with `--reinsert` it then waits for vpcd to come back and inserts itself again.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::vpcd::{Faults, VirtualCard};

#[derive(Parser, Debug)]
#[command(version, about = "Attach a simulated EMV card to pcscd through vpcd")]
struct Args {
    /// vpcd card port: 35963 is "Virtual PCD 00 00", 35964 "Virtual PCD 00 01".
    #[arg(long, default_value_t = 35963)]
    port: u16,
    /// Profile file (TOML), or a built-in name: unionpay-debit, visa-credit.
    #[arg(long, default_value = "unionpay-debit")]
    profile: String,
    /// Behave as a T=0 card (61xx / 6Cxx, GET RESPONSE).
    #[arg(long)]
    t0: bool,
    /// Answer N APDUs, then pull the card during the next one.
    #[arg(long)]
    remove_after: Option<usize>,
    /// Delay each answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Answer with an empty ATR (mute card).
    #[arg(long)]
    mute: bool,
    /// Answer with an invalid ATR.
    #[arg(long)]
    garbage_atr: bool,
    /// After vpcd closes the connection, insert again when it comes back.
    #[arg(long)]
    reinsert: bool,
}

fn load(spec: &str) -> Result<CardProfile, String> {
    if let Some(p) = CardProfile::builtin(spec) {
        return Ok(p);
    }
    CardProfile::load(PathBuf::from(spec)).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    pos_sim::init_tracing();
    let args = Args::parse();
    let mut profile = match load(&args.profile) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("sim-card: {e}");
            return ExitCode::FAILURE;
        }
    };
    profile.t0 |= args.t0;
    let faults = Faults {
        remove_after: args.remove_after,
        delay: Duration::from_millis(args.delay_ms),
        mute: args.mute,
        garbage_atr: args.garbage_atr,
        raw_response: None,
    };
    loop {
        match VirtualCard::insert(args.port, EmvCard::new(profile.clone()), faults.clone()) {
            Ok(card) => {
                eprintln!(
                    "sim-card: '{}' inserted on vpcd port {}",
                    profile.name, args.port
                );
                let result = card.wait_closed();
                eprintln!("sim-card: vpcd closed the connection ({result:?})");
            }
            Err(e) if args.reinsert => {
                eprintln!(
                    "sim-card: vpcd not reachable on port {} ({e}), retrying",
                    args.port
                );
            }
            Err(e) => {
                eprintln!(
                    "sim-card: cannot reach vpcd on 127.0.0.1:{}: {e}",
                    args.port
                );
                eprintln!("sim-card: is pcscd running with the vpcd driver? try `cargo xtask up`");
                return ExitCode::FAILURE;
            }
        }
        if !args.reinsert {
            return ExitCode::SUCCESS;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
