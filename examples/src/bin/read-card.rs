//! `read-card`: reads a payment card in a PC/SC reader and prints its ATR, its applications
//! and its PAN, masked.
//!
//! ```text
//! read-card [--reader NAME-OR-PART] [--timeout SECONDS]
//! ```
//! Without `--reader` it waits for a card in any reader.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use pos_hal::{CancelToken, IccReader};
use pos_pcsc::{PcscError, PcscReader, ReaderSelector};

#[derive(Parser, Debug)]
#[command(about = "Read a payment card: ATR, applications, masked PAN")]
struct Args {
    /// Reader name, exact or a part of it (case-insensitive). Default: the first reader
    /// that has a card.
    #[arg(long)]
    reader: Option<String>,
    /// Seconds to wait for a card.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

fn open(args: &Args, timeout: Duration) -> Result<PcscReader, PcscError> {
    match &args.reader {
        Some(name) => PcscReader::open(&ReaderSelector::Exact(name.clone()))
            .or_else(|_| PcscReader::open(&ReaderSelector::Contains(name.clone()))),
        None => {
            let start = Instant::now();
            loop {
                match PcscReader::open(&ReaderSelector::FirstWithCard) {
                    Err(PcscError::ReaderNotFound { .. }) if start.elapsed() < timeout => {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    other => return other,
                }
            }
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let timeout = Duration::from_secs(args.timeout);
    let mut reader = open(args, timeout)?;
    println!("Reader: {}", reader.name());
    reader.wait_for_card(timeout, &CancelToken::new())?;
    let atr = reader.power_on()?;
    println!("ATR: {atr}");
    let protocols = atr.protocols();
    println!(
        "Protocols offered: {protocols:?}, in use: {:?}",
        reader.active_protocol()
    );
    let info = pos_examples::card_info::read(&mut reader)?;
    println!("Applications ({}):", info.directory);
    for app in &info.applications {
        println!("AID: {} {}", hex::encode_upper(&app.aid), app.label);
    }
    match &info.pan {
        Some(pan) => println!("PAN: {pan}"),
        None => println!("PAN: not found in the records"),
    }
    if let Some(expiry) = &info.expiry {
        println!("Expiry (YYMM): {expiry}");
    }
    reader.power_off()?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("read-card: {e}");
            ExitCode::FAILURE
        }
    }
}
