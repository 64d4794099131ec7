//! `print-receipt`: prints the two standard sale slips (merchant copy with signature line,
//! cardholder copy), or only shows the printer's status.
//!
//! ```text
//! print-receipt --printer SELECTOR [--width 58|80] [--status] [--drawer]
//! ```
//! `SELECTOR` is what `devices` prints: `escpos:tcp:HOST:PORT`, `escpos:serial:PATH[:BAUD[:rtscts]]`,
//! `escpos:usb:[VID:PID[:SERIAL]]`, `escpos:file:/dev/usb/lp0`; the older forms without
//! `escpos:` (`tcp:HOST:PORT`…) are still accepted.
//! A printer fault (paper out, cover open, offline, unreachable) gives a clear message and
//! exit status 2; the slip that failed was not printed.

use std::process::ExitCode;

use clap::Parser;
use pos_devices::PrinterOptions;
use pos_hal::{CancelToken, Error as _, ErrorKind, PaperState, Receipt, ReceiptPrinter};
use pos_terminal::slip::{Copy, SaleSlip};

#[derive(Parser, Debug)]
#[command(version, about = "Print the two sale slips on an ESC/POS printer")]
struct Args {
    /// Printer selector: `escpos:tcp:HOST:PORT`, `escpos:serial:PATH[:BAUD[:rtscts]]`,
    /// `escpos:usb:VID:PID[:SERIAL]` (hex) or `escpos:usb:` (first printer), `escpos:file:PATH`.
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
        ErrorKind::NotReady => "the printer is offline: check it and print again",
        ErrorKind::InvalidInput => "check the printer selector (see `devices`)",
        ErrorKind::NoDevice => "check the printer address / cable and that it is switched on",
        ErrorKind::PermissionDenied => {
            "no access to the device: see README (udev rules, lp/dialout groups)"
        }
        ErrorKind::Timeout => "the printer did not answer in time",
        ErrorKind::Disconnected => "the connection to the printer broke",
        _ => "see the error above",
    }
}

/// A selector, with `escpos:` put in front of the older bare printer addresses.
fn selector(text: &str) -> String {
    let bare = ["tcp:", "serial:", "usb:", "file:"];
    if bare.iter().any(|p| text.starts_with(p)) {
        format!("escpos:{text}")
    } else {
        text.to_string()
    }
}

fn main() -> ExitCode {
    pos_examples::init_tracing();
    let args = Args::parse();
    let options = PrinterOptions::default().with_paper_mm(args.width);
    let cancel = CancelToken::new();
    let mut printer = match pos_devices::open_printer_with(&selector(&args.printer), &options) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("print-receipt: {e}\n  {}", advice(e.kind()));
            return ExitCode::from(2);
        }
    };
    if args.status {
        return match printer.status(&cancel) {
            Ok(s) => {
                let paper = match s.paper {
                    PaperState::Ok => "ok",
                    PaperState::NearEnd => "near end",
                    PaperState::Out => "OUT",
                    _ => "unknown",
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
        match printer.print(&Receipt::new(&lines), &cancel) {
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
