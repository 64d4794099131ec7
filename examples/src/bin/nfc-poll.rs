//! `nfc-poll`: waits for a contactless card, prints what it is and which payment
//! applications it lists, then waits until it leaves the field.
//!
//! ```text
//! nfc-poll [--device SELECTOR-OR-CONNSTRING | --pn532 SERIAL-PATH] [--timeout SECONDS]
//! ```
//! `--device` takes any contactless selector (`nfc:pn532_uart:/dev/ttyUSB0`, `pn532:/dev/ttyS1`,
//! `pcsc:~ACR1252`) or a bare libnfc connection string (`pn532_uart:/dev/ttyUSB0`,
//! `acr122_usb`). `--pn532` drives a PN532 on a serial line with the built-in no_std driver.
//! Without either, the first device libnfc finds is used.
//!
//! Exit status: 0 when a card was read and removed; 1 when no card came within the timeout or
//! the reader failed (the reason is printed).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pos_devices::DynPiccReader;
use pos_hal::{CancelToken, PiccReader, PollOutcome, Target, TargetTypes};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Wait for a contactless card: UID, ATQA/SAK/ATS, payment applications"
)]
struct Args {
    /// A contactless selector (`nfc:…`, `pn532:…`, `pcsc:…`) or a libnfc connection string.
    #[arg(long, conflicts_with = "pn532")]
    device: Option<String>,
    /// Serial port of a PN532 (HSU), driven by the built-in driver.
    #[arg(long)]
    pn532: Option<String>,
    /// Seconds to wait for the card, and again for its removal.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("no contactless card within {0} s")]
    NoCard(u64),
    #[error("more than one card in the field: present one card only")]
    Collision,
    #[error("no NFC device found by libnfc: name one with --device or --pn532")]
    NoReader,
    #[error("the card stayed in the field for {0} s")]
    NotRemoved(u64),
}

/// A selector as given, or a bare libnfc connection string put under `nfc:`.
fn selector(device: &str) -> String {
    let known = device
        .split_once(':')
        .is_some_and(|(prefix, _)| pos_devices::drivers().iter().any(|d| d.name() == prefix));
    if known {
        device.to_string()
    } else {
        format!("nfc:{device}")
    }
}

fn open(args: &Args) -> Result<DynPiccReader, Box<dyn std::error::Error>> {
    let chosen = match (&args.device, &args.pn532) {
        (Some(device), _) => selector(device),
        (None, Some(path)) => format!("pn532:{path}"),
        (None, None) => {
            let first = pos_devices::list()
                .into_iter()
                .find(|l| l.info.selector.as_str().starts_with("nfc:"))
                .ok_or(PollError::NoReader)?;
            first.info.selector.to_string()
        }
    };
    Ok(pos_devices::open_picc(&chosen)?)
}

fn describe(target: &Target) {
    println!("UID: {}", hex::encode_upper(target.uid.as_bytes()));
    println!("Type: {:?} ({:?})", target.rf, target.protocol);
    if let (Some(atqa), Some(sak)) = (target.atqa, target.sak) {
        println!("ATQA: {} SAK: {sak:02X}", hex::encode_upper(atqa));
    }
    if let Some(ats) = &target.ats {
        println!("ATS: {}", hex::encode_upper(ats.as_bytes()));
    }
    if let Some(atqb) = &target.atqb {
        println!("ATQB: {}", hex::encode_upper(atqb.as_bytes()));
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let timeout = Duration::from_secs(args.timeout);
    let cancel = CancelToken::new();
    let mut reader = open(args)?;
    println!("Reader: {}", reader.info().name);
    println!("Present a card…");
    let target = match reader.poll(TargetTypes::AB, timeout, &cancel)? {
        PollOutcome::Card(target) => target,
        PollOutcome::Collision => return Err(PollError::Collision.into()),
        PollOutcome::Nothing => return Err(PollError::NoCard(args.timeout).into()),
        other => return Err(format!("unexpected poll outcome {other:?}").into()),
    };
    describe(&target);
    match pos_examples::card_info::contactless_applications(reader.as_mut()) {
        Ok(apps) => {
            println!("Applications (PPSE):");
            for app in &apps {
                println!("AID: {} {}", hex::encode_upper(&app.aid), app.label);
            }
        }
        Err(e) => println!("No payment application: {e}"),
    }
    println!("Remove the card…");
    reader
        .wait_for_removal(timeout, &cancel)
        .map_err(|e| match pos_hal::Error::kind(&e) {
            pos_hal::ErrorKind::Timeout => PollError::NotRemoved(args.timeout).into(),
            _ => Box::<dyn std::error::Error>::from(e),
        })?;
    println!("Card removed.");
    Ok(())
}

fn main() -> ExitCode {
    pos_examples::init_tracing();
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nfc-poll: {e}");
            ExitCode::FAILURE
        }
    }
}
