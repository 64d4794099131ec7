//! `print-receipt`: prints the two standard sale slips (merchant copy with signature line,
//! cardholder copy), or only shows the printer's status.
//!
//! ```text
//! print-receipt --printer tcp:HOST:PORT | serial:/dev/ttyX[:baud] | usb:VID:PID | file:/dev/usb/lp0
//!               [--width 58|80] [--status] [--drawer]
//! ```
//! A printer fault (paper out, cover open, offline, unreachable) gives a clear message and
//! exit status 2; the slip that failed was not printed.

use std::process::ExitCode;

use clap::Parser;
use pos_escpos::{EscposPrinter, Profile};
use pos_hal::{Error as _, ErrorKind, PaperState, Receipt, ReceiptPrinter};
use pos_terminal::slip::{Copy, SaleSlip};

#[derive(Parser, Debug)]
#[command(about = "Print the two sale slips on an ESC/POS printer")]
struct Args {
    /// `tcp:HOST:PORT`, `serial:PATH[:BAUD]`, `usb:VID:PID` (hex) or `usb:` (first printer), `file:PATH`.
    #[arg(long)]
    printer: String,
    /// Paper width in mm.
    #[arg(long, default_value_t = 58)]
    width: u8,
    /// Only read and print the printer status.
    #[arg(long)]
    status: bool,
    /// Also pulse the cash drawer.
    #[arg(long)]
    drawer: bool,
}

fn advice(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::PaperOut => "load paper and print again",
        ErrorKind::CoverOpen => "close the printer cover and print again",
        ErrorKind::Busy => "the printer is offline: check it and print again",
        ErrorKind::NoDevice => "check the printer address / cable and that it is switched on",
        ErrorKind::PermissionDenied => {
            "no access to the device: see README (udev rules, lp/dialout groups)"
        }
        ErrorKind::Timeout => "the printer did not answer in time",
        ErrorKind::Disconnected => "the connection to the printer broke",
        _ => "see the error above",
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let profile = if args.width >= 80 {
        Profile::MM80
    } else {
        Profile::MM58
    };
    let mut printer = match EscposPrinter::open(&args.printer, profile) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("print-receipt: {e}\n  {}", advice(e.kind()));
            return ExitCode::from(2);
        }
    };
    if args.status {
        return match printer.status() {
            Ok(s) => {
                let paper = match s.paper {
                    PaperState::Ok => "ok",
                    PaperState::NearEnd => "near end",
                    PaperState::Out => "OUT",
                    PaperState::Unknown => "unknown",
                };
                println!(
                    "online: {}  paper: {paper}  cover: {}  ready: {}",
                    s.online,
                    if s.cover_open { "OPEN" } else { "closed" },
                    s.ready()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("print-receipt: {e}\n  {}", advice(e.kind()));
                ExitCode::from(2)
            }
        };
    }
    let slip = SaleSlip::sample();
    for (copy, name) in [
        (Copy::Merchant, "merchant copy"),
        (Copy::Cardholder, "cardholder copy"),
    ] {
        let layout = slip.layout(copy);
        let lines = layout.lines();
        match printer.print(&Receipt::new(&lines)) {
            Ok(job) => println!("printed {name} ({} bytes)", job.bytes_sent),
            Err(e) => {
                eprintln!(
                    "print-receipt: {name} NOT printed: {e}\n  {}",
                    advice(e.kind())
                );
                return ExitCode::from(2);
            }
        }
    }
    if args.drawer {
        if let Err(e) = printer.open_drawer() {
            eprintln!("print-receipt: drawer: {e}");
            return ExitCode::from(2);
        }
        println!("drawer opened");
    }
    ExitCode::SUCCESS
}
