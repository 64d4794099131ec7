//! `read-card`: reads a payment card and prints its ATR, its applications and its PAN, masked.
//!
//! ```text
//! read-card [--device SELECTOR | --reader NAME-OR-PART] [--timeout SECONDS]
//! ```
//! `--device` takes any selector `devices` prints (`pcsc:Virtual PCD 00 00`, `pcsc:~ACR`).
//! `--reader` takes a PC/SC reader name, exact or a part of it. Without either it waits for a
//! card in any PC/SC reader.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pos_devices::{DynIccReader, Erased};
use pos_hal::{CancelToken, IccReader};
use pos_pcsc::{PcscError, PcscReader, ReaderSelector};

#[derive(Parser, Debug)]
#[command(version, about = "Read a payment card: ATR, applications, masked PAN")]
struct Args {
    /// Device selector, as `devices` lists it (`pcsc:<name>`, `pcsc:~<part>`).
    #[arg(long, conflicts_with = "reader")]
    device: Option<String>,
    /// PC/SC reader name, exact or a part of it. Default: the first reader that has a card.
    #[arg(long)]
    reader: Option<String>,
    /// Seconds to wait for a card (any value; huge ones mean "wait for ever").
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

fn open(args: &Args, timeout: Duration) -> Result<DynIccReader, Box<dyn std::error::Error>> {
    if let Some(selector) = &args.device {
        return Ok(pos_devices::open_icc(selector)?);
    }
    if let Some(name) = &args.reader {
        return Ok(pos_devices::open_icc(&format!("pcsc:{name}"))
            .or_else(|_| pos_devices::open_icc(&format!("pcsc:~{name}")))?);
    }
    let deadline = pos_io::Deadline::after(timeout);
    loop {
        match PcscReader::open(&ReaderSelector::FirstWithCard) {
            Err(PcscError::ReaderNotFound { .. }) if !deadline.expired() => {
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return Ok(Box::new(Erased(other?))),
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let timeout = Duration::from_secs(args.timeout);
    let mut reader = open(args, timeout)?;
    println!("Reader: {}", reader.info().name);
    reader.wait_for_card(timeout, &CancelToken::new())?;
    let atr = reader.power_on()?;
    println!("ATR: {atr}");
    println!("Protocols offered: {:?}", atr.protocols());
    let info = pos_examples::card_info::read(reader.as_mut())?;
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
    pos_examples::init_tracing();
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("read-card: {e}");
            ExitCode::FAILURE
        }
    }
}
