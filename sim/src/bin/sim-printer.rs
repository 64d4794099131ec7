//! `sim-printer`: a virtual ESC/POS printer on TCP or a serial pty.
//!
//! ```text
//! sim-printer [--tcp 9100 | --pty] [--width 384|576] [--out DIR]
//! ```
//! Each job (ended by a cut) is rendered to `DIR/job-NNN.png` and its transcript printed.
//! Faults are typed on stdin while it runs: `paper out`, `paper near`, `paper ok`,
//! `cover open`, `cover closed`, `offline`, `online`, `stall`, `resume`, `drop N`, `clear`.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pos_sim::printer::{ControlCommand, VirtualPrinter, serve_control};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Virtual ESC/POS receipt printer (TCP or pty) rendering jobs to PNG"
)]
struct Args {
    /// Listen on 127.0.0.1:PORT.
    #[arg(long, conflicts_with = "pty")]
    tcp: Option<u16>,
    /// Create a pseudo-terminal and print its path.
    #[arg(long)]
    pty: bool,
    /// Dots per line: 384 (58 mm) or 576 (80 mm).
    #[arg(long, default_value_t = 384)]
    width: u32,
    /// Where job PNGs go.
    #[arg(long, default_value = "sim-printer-out")]
    out: PathBuf,
    /// Serve a USB printer gadget device (`/dev/g_printer0`) instead.
    #[arg(long, requires = "udc_file")]
    usb_gadget: Option<String>,
    /// The gadget's configfs `UDC` file (unplug / re-plug).
    #[arg(long)]
    udc_file: Option<String>,
    /// Also take commands on this TCP address (one command per line, answer ends with `OK`).
    #[arg(long)]
    control: Option<String>,
    /// Do not render PNGs.
    #[arg(long)]
    no_png: bool,
}

fn main() -> ExitCode {
    pos_sim::init_tracing();
    let args = Args::parse();
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("sim-printer: {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let out = (!args.no_png).then(|| args.out.clone());
    let vp = match (&args.usb_gadget, args.tcp, args.pty) {
        (Some(dev), _, _) => {
            VirtualPrinter::usb_gadget(dev, args.udc_file.as_deref().unwrap_or(""), args.width, out)
        }
        (None, _, true) => VirtualPrinter::pty(args.width, out),
        (None, port, false) => VirtualPrinter::tcp(port.unwrap_or(9100), args.width, out),
    };
    let vp = match vp {
        Ok(vp) => std::sync::Arc::new(vp),
        Err(e) => {
            eprintln!("sim-printer: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "sim-printer: ready on {} ({} dots), jobs in {}",
        vp.endpoint(),
        args.width,
        args.out.display()
    );
    if let Some(addr) = &args.control {
        let listener = match std::net::TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("sim-printer: control {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let (vp, udc_file) = (vp.clone(), args.udc_file.clone().unwrap_or_default());
        let udc = std::fs::read_to_string(&udc_file)
            .unwrap_or_default()
            .trim()
            .to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                serve_control(&vp, stream, &|| vp.replug(&udc_file, &udc));
            }
        });
    }
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut shown = 0;
    loop {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            match line.parse::<ControlCommand>() {
                Ok(cmd) if cmd.apply(&vp) => println!("sim-printer: fault set: {cmd}"),
                Ok(cmd) => println!("sim-printer: {cmd:?} works on the control port only"),
                Err(e) => println!("sim-printer: {e}"),
            }
        }
        let jobs = vp.jobs();
        for job in &jobs[shown..] {
            let png = job
                .png
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            println!(
                "--- job {} ({}) {png}\n{}",
                shown + 1,
                if job.complete {
                    "printed"
                } else {
                    "INTERRUPTED"
                },
                job.transcript()
            );
            shown += 1;
        }
    }
}
