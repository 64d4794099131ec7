//! `host-sim`: the acquirer host simulator on loopback.
//!
//! ```text
//! host-sim --db host.sqlite --port 5000 [--delay-ms MS] [--drop] [--garbage] [--wrong-mac] [--other-terminal]
//! ```
//! Knows terminal 12345678 / merchant 123456789012345 (TMK 70F2A84CCBC2AE8625CBB0F2C22AB923)
//! and the simulated cards' accounts.

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use clap::Parser;
use pos_sim::acquirer::{HostConfig, HostSim};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "CUP acquirer host simulator (ISO 8583 over TCP, SQLite ledger)"
)]
struct Args {
    /// SQLite ledger file.
    #[arg(long, default_value = "host-sim.sqlite")]
    db: std::path::PathBuf,
    /// TCP port on 127.0.0.1.
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// Delay every answer.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Close the connection instead of answering.
    #[arg(long)]
    drop: bool,
    /// Answer with garbage.
    #[arg(long)]
    garbage: bool,
    /// Corrupt answer MACs.
    #[arg(long)]
    wrong_mac: bool,
    /// Answer for another terminal id.
    #[arg(long)]
    other_terminal: bool,
    /// Simulated customers pay every terminal QR order this many seconds after it was
    /// created (with the demo's UnionPay payment code); without it, orders stay unpaid.
    #[arg(long, value_name = "SECONDS")]
    customer_pays_after: Option<u64>,
}

fn main() -> ExitCode {
    pos_sim::init_tracing();
    let args = Args::parse();
    let mut config = HostConfig::demo(&args.db);
    config.port = args.port;
    let host = match HostSim::start(config) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("host-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let f = host.faults();
    f.delay_ms.store(args.delay_ms, Ordering::Relaxed);
    f.drop.store(args.drop, Ordering::Relaxed);
    f.garbage.store(args.garbage, Ordering::Relaxed);
    f.wrong_mac.store(args.wrong_mac, Ordering::Relaxed);
    f.other_terminal
        .store(args.other_terminal, Ordering::Relaxed);
    eprintln!(
        "host-sim: listening on {} (ledger {})",
        host.addr(),
        args.db.display()
    );
    loop {
        match args.customer_pays_after {
            Some(secs) => {
                std::thread::sleep(std::time::Duration::from_millis(500));
                if let Err(e) = pos_sim::acquirer::orders::pay_orders_older_than(
                    &args.db,
                    std::time::Duration::from_secs(secs),
                    pos_sim::scanner::UNIONPAY_CODE,
                ) {
                    eprintln!("host-sim: simulated customer: {e}");
                }
            }
            None => std::thread::park(),
        }
    }
}
