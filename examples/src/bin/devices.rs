//! `devices`: lists every device the built-in drivers can see, with the selector that opens it.
//!
//! ```text
//! devices [--json] [--pn532 SERIAL-PATH]...
//! ```
//! Serial devices cannot be discovered without talking to every port; `--pn532 PATH` asks
//! the port named for a PN532 (its firmware version) and lists it as `pn532:PATH` when it
//! answers.
//! PC/SC readers (contact and contactless) with their card state, and receipt printers on USB
//! (printer class) or usblp device nodes. With `--json`, one JSON object per line:
//! `{"selector", "driver", "kind", "name", "state"}`; every selector is accepted as it is by
//! `read-card --device` and `print-receipt --printer`.
//!
//! Exit status 0 when every driver could look, 1 when one could not (the reason is printed),
//! so scripts can tell "no devices" from "cannot look".

use std::process::ExitCode;

use clap::Parser;
use pos_hal::Error as _;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "List the POS devices the drivers can see, with their selectors"
)]
struct Args {
    /// One JSON object per device and line.
    #[arg(long)]
    json: bool,
    /// A serial port to ask for a PN532 (repeatable).
    #[arg(long, value_name = "SERIAL-PATH")]
    pn532: Vec<String>,
}

fn print_listing(json: bool, f: &pos_devices::Listing) {
    if json {
        match serde_json::to_string(&f.json()) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("devices: {e}"),
        }
    } else {
        println!(
            "  {:<36} {:<18} {}",
            f.info.selector.as_str(),
            f.state.as_deref().unwrap_or("-"),
            f.info.name.as_str()
        );
    }
}

fn main() -> ExitCode {
    pos_examples::init_tracing();
    let args = Args::parse();
    let mut healthy = true;
    for driver in pos_devices::drivers() {
        let listed = driver.list();
        if !args.json {
            println!("{} ({}):", driver.name(), driver.syntax());
        }
        match listed {
            Ok(found) if found.is_empty() && !args.json => match driver.name() {
                "pcsc" => {
                    println!("  none: pcscd runs but has no reader (plugged in? driver installed?)")
                }
                "escpos" => println!(
                    "  none found (network and serial printers cannot be discovered: name them, e.g. escpos:tcp:HOST:9100)"
                ),
                "nfc" => println!(
                    "  none configured (libnfc lists what libnfc.conf or LIBNFC_DEVICE names; serial readers are opened by name, e.g. nfc:pn532_uart:/dev/ttyUSB0)"
                ),
                _ => println!(
                    "  none found (serial devices are silent until used: name them, e.g. {})",
                    driver.syntax()
                ),
            },
            Ok(found) => {
                for f in found {
                    print_listing(args.json, &f);
                }
            }
            Err(e) => {
                healthy = false;
                if e.kind() == pos_hal::ErrorKind::Disconnected && driver.name() == "pcsc" {
                    report(
                        args.json,
                        &format!("  unavailable: pcscd is not running ({e})"),
                    );
                    report(
                        args.json,
                        "  start it with `sudo systemctl start pcscd` (or `cargo xtask up` for the simulators)",
                    );
                } else {
                    report(args.json, &format!("  unavailable: {e}"));
                }
            }
        }
    }
    if !args.pn532.is_empty() && !args.json {
        println!("pn532 on the ports named:");
    }
    for path in &args.pn532 {
        match pos_devices::open_picc(&format!("pn532:{path}")) {
            Ok(reader) => print_listing(
                args.json,
                &pos_devices::Listing::new(reader.info(), Some("answers".to_string())),
            ),
            Err(e) => {
                healthy = false;
                report(args.json, &format!("  {path}: no PN532 answers ({e})"));
            }
        }
    }
    if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Human text goes to stdout, except in JSON mode, where stdout carries only JSON lines.
fn report(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}
