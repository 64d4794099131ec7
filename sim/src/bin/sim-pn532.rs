//! `sim-pn532`: a PN532 contactless reader on a pty with a card in its field.
//!
//! ```text
//! sim-pn532 [--profile unionpay-debit|FILE] [--uid 04A1B2C3] [--type-b] [--empty]
//! ```
//! Prints `sim-pn532: ready on /dev/pts/N` (open it as `pn532:/dev/pts/N` or
//! `nfc:pn532_uart:/dev/pts/N`) and runs until stopped.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::pn532::{Pn532Emulator, Presented};

#[derive(Parser, Debug)]
#[command(version, about = "A PN532 on a pty with a simulated card in its field")]
struct Args {
    /// Card profile file (TOML) or a built-in name (`unionpay-debit`, `unionpay-qpboc-offline`…).
    #[arg(long, default_value = "unionpay-debit")]
    profile: String,
    /// The card's UID (hex).
    #[arg(long, default_value = "04A1B2C3")]
    uid: String,
    /// Present the card as type B.
    #[arg(long)]
    type_b: bool,
    /// Start with an empty field.
    #[arg(long)]
    empty: bool,
}

fn main() -> ExitCode {
    pos_sim::init_tracing();
    let args = Args::parse();
    let profile = match CardProfile::builtin(&args.profile) {
        Some(p) => p,
        None => match CardProfile::load(PathBuf::from(&args.profile)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("sim-pn532: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let uid = match hex::decode(&args.uid) {
        Ok(u) if matches!(u.len(), 4 | 7 | 10) => u,
        _ => {
            eprintln!("sim-pn532: --uid must be 4, 7 or 10 bytes of hex");
            return ExitCode::FAILURE;
        }
    };
    let emulator = match Pn532Emulator::start() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sim-pn532: cannot open a pty: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !args.empty {
        let card = EmvCard::new(profile);
        emulator.insert(if args.type_b {
            let mut pupi = [0u8; 4];
            pupi.copy_from_slice(&uid[..4]);
            Presented::iso_dep_b(card, pupi)
        } else {
            Presented::iso_dep_a(card, &uid)
        });
    }
    println!("sim-pn532: ready on {}", emulator.path());
    loop {
        std::thread::park();
    }
}
