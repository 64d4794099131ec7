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
use pos_sim::printer::{Paper, VirtualPrinter};

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

fn control(vp: &VirtualPrinter, line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["paper", "out"] => vp.set_paper(Paper::Out),
        ["paper", "near"] => vp.set_paper(Paper::NearEnd),
        ["paper", "ok"] => vp.set_paper(Paper::Ok),
        ["cover", "open"] => vp.set_cover_open(true),
        ["cover", "closed"] => vp.set_cover_open(false),
        ["offline"] => vp.set_offline(true),
        ["online"] => vp.set_offline(false),
        ["stall"] => vp.set_stall(true),
        ["resume"] => vp.set_stall(false),
        ["drop", n] => vp.drop_after_bytes(n.parse().ok()),
        ["lines", n] => vp.paper_out_after_lines(n.parse().ok()),
        ["clear"] => vp.clear_faults(),
        _ => return false,
    }
    true
}

/// One control connection: a command per line; each answer ends with a line `OK` or `ERR`.
fn serve_control(vp: &VirtualPrinter, stream: std::net::TcpStream, udc_file: &str, udc: &str) {
    use std::io::Write;
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    for line in std::io::BufReader::new(stream)
        .lines()
        .map_while(Result::ok)
    {
        let reply = match line.trim() {
            "jobs" => {
                let mut text = String::new();
                for job in vp.jobs() {
                    text.push_str(if job.complete {
                        "JOB complete\n"
                    } else {
                        "JOB interrupted\n"
                    });
                    text.push_str(&job.transcript());
                    text.push_str("END\n");
                }
                text + "OK\n"
            }
            "replug" => match vp.replug(udc_file, udc) {
                Ok(()) => "OK\n".to_string(),
                Err(e) => format!("ERR {e}\n"),
            },
            other if control(vp, other) => "OK\n".to_string(),
            other => format!("ERR unknown command {other:?}\n"),
        };
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
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
                serve_control(&vp, stream, &udc_file, &udc);
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
            let ok = control(&vp, &line);
            println!(
                "sim-printer: {} {line:?}",
                if ok { "fault set:" } else { "unknown control" }
            );
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
