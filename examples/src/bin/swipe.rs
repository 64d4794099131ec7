//! Waits for one swipe on a magnetic stripe reader and says what the card is, never showing
//! its tracks.
//!
//! ```text
//! swipe [--device SELECTOR | --serial /dev/ttyACM0[:BAUD] | --usb VID:PID] [--timeout SECONDS]
//! ```
//! Without a reader named, the first USB reader `devices` lists (MagTek, IDTech: vendor-HID
//! on hidraw, keyboard wedges on evdev) is used.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pos_hal::{CancelToken, MagstripeReader, TrackRead};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Read one swipe: PAN (masked), expiry, service code, chip card or not"
)]
struct Args {
    /// Reader selector (`msr:serial:/dev/ttyACM0`, `msr:hidraw:0801:0002`,
    /// `msr:evdev:0801:0001`…).
    #[arg(long, conflicts_with_all = ["serial", "usb"])]
    device: Option<String>,
    /// A serial reader's device, optionally `:BAUD` (9600 by default).
    #[arg(long, conflicts_with = "usb")]
    serial: Option<String>,
    /// A USB vendor-HID reader by `VID:PID` (MagTek 0801:0002, IDTech 0acd:2010), read
    /// through libusb.
    #[arg(long)]
    usb: Option<String>,
    /// Seconds to wait for the swipe.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

fn status<T>(t: &TrackRead<T>) -> &'static str {
    match t {
        TrackRead::Read(_) => "read",
        TrackRead::Absent => "absent",
        _ => "misread",
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let selector = match (&args.device, &args.serial, &args.usb) {
        (Some(d), _, _) => d.clone(),
        (None, Some(s), _) => format!("msr:serial:{s}"),
        (None, None, Some(vid_pid)) => format!("msr:usb:{vid_pid}"),
        (None, None, None) => pos_devices::list()
            .into_iter()
            .find(|l| l.info.selector.as_str().starts_with("msr:"))
            .map(|l| l.info.selector.to_string())
            .ok_or(
                "no USB magstripe reader found: name one with --device SELECTOR, --serial /dev/ttyX or --usb VID:PID",
            )?,
    };
    let mut reader = pos_devices::open_magstripe(&selector)?;
    println!("Swipe a card on {selector} …");
    let swipe = reader.read_swipe(Duration::from_secs(args.timeout), &CancelToken::new())?;
    println!(
        "Tracks: 1 {}, 2 {}, 3 {}",
        status(&swipe.track1),
        status(&swipe.track2),
        status(&swipe.track3)
    );
    let tracks = swipe.tracks();
    let pan = tracks
        .pan()
        .map_err(|_| "no readable card number on this swipe: swipe again")?;
    println!("PAN: {pan}");
    if let Some(t2) = &tracks.track2 {
        println!("Expiry (YYMM): {}", t2.expiry());
    } else if let Some(t1) = &tracks.track1 {
        println!("Expiry (YYMM): {}", t1.expiry());
    }
    if let Some(code) = tracks.service_code() {
        println!("Service code: {}", code.as_str());
        if code.is_chip_card() {
            println!("Chip card — please insert");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    pos_examples::init_tracing();
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("swipe: {e}");
            ExitCode::FAILURE
        }
    }
}
