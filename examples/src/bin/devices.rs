//! `devices`: lists every device the built drivers can see.
//!
//! PC/SC readers (contact and contactless) with their card state and ATR, and receipt printers
//! on USB (printer class) or usblp device nodes.
//! Exit status 0 when every backend answered, 1 when one was unavailable (the reason is
//! printed), so scripts can tell "no devices" from "cannot look".

use std::process::ExitCode;

use clap::Parser;
use pos_hal::Error as _;

#[derive(Parser, Debug)]
#[command(about = "List the POS devices the drivers can see")]
struct Args {}

fn main() -> ExitCode {
    let _ = Args::parse();
    let mut healthy = true;
    println!("PC/SC readers (pcscd):");
    match pos_pcsc::readers() {
        Ok(readers) if readers.is_empty() => {
            println!("  none: pcscd runs but has no reader (plugged in? driver installed?)")
        }
        Ok(readers) => {
            for r in readers {
                let atr = r
                    .atr
                    .as_deref()
                    .map(hex::encode_upper)
                    .map(|a| format!("  ATR {a}"));
                println!("  {:<32} {}{}", r.name, r.state, atr.unwrap_or_default());
            }
        }
        Err(e) if e.kind() == pos_hal::ErrorKind::Disconnected => {
            healthy = false;
            println!("  unavailable: pcscd is not running ({e})");
            println!(
                "  start it with `sudo systemctl start pcscd` (or `cargo xtask up` for the simulators)"
            );
        }
        Err(e) => {
            healthy = false;
            println!("  unavailable: {e}");
        }
    }
    println!("Receipt printers (USB printer class, usblp nodes):");
    let printers = pos_escpos::discover();
    if printers.is_empty() {
        println!(
            "  none found (network and serial printers cannot be discovered: name them, e.g. tcp:HOST:9100)"
        );
    }
    for p in printers {
        println!("  {:<32} {}", p.name.as_str(), p.selector.as_str());
    }
    if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
