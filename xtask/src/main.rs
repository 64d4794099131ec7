//! `cargo xtask` — the project's two README commands and the pieces they are made of.
//!
//! * `setup`  installs the Debian packages the workspace needs (idempotent).
//! * `up`     starts a private pcscd with the vpcd virtual readers; `down` stops it.
//! * `test`   setup + up + nextest + doctests + down; non-zero on any failure.
//! * `demo`   setup + up + the integrator examples against a simulated card + down.

mod packages;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pos_sim_stack as pcscd;

#[derive(Parser, Debug)]
#[command(name = "cargo xtask", about = "POS HAL workspace automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Install the system packages the workspace needs (apt-get; skips what is present).
    Setup,
    /// Start the simulator daemons (pcscd with the vpcd virtual readers).
    Up,
    /// Stop what `up` started.
    Down,
    /// Show whether the daemons run.
    Status,
    /// Setup, up, run every test (nextest + doctests), down.
    Test {
        /// Extra arguments for `cargo nextest run` (e.g. a filter).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Setup, up, and run the demo on the simulators.
    Demo,
    /// Setup, up, and run the bench runner (pos-hil) on a bench file: JUnit XML and an HTML
    /// report in `target/hil/<bench name>/`.
    Hil {
        /// The bench description (`hil-tests/benches/sim.toml`, or your real bench).
        #[arg(long, default_value = "hil-tests/benches/sim.toml")]
        bench: PathBuf,
    },
    /// The QEMU USB rig (Linux USB host stack with gadget devices; see hil-tests/README.md).
    UsbHil {
        #[command(subcommand)]
        action: UsbHilAction,
    },
    /// Run cargo-fuzz targets (needs nightly and `cargo install cargo-fuzz`).
    Fuzz {
        /// Target name, or `all`.
        #[arg(default_value = "all")]
        target: String,
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Skip (with a message) instead of failing when no nightly toolchain is installed.
        #[arg(long)]
        if_nightly: bool,
    },
    /// Setup, up, run the criterion benchmarks (they need the simulators), down.
    Bench {
        /// Arguments for `cargo bench` (default `--workspace`), e.g. `-p pos-pcsc`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum UsbHilAction {
    /// Boot the rig and list what the guest sees (lsusb, drivers, gadget nodes).
    Run,
    /// Run a crate's `tests/usb_rig.rs` inside the rig, one guest per test binary.
    Test {
        /// Package whose `usb_rig` test to run.
        #[arg(short = 'p', long = "package", default_value = "pos-escpos")]
        package: String,
    },
}

/// Errors of the automation itself.
#[derive(Debug, thiserror::Error)]
pub enum XtaskError {
    /// A command could not be started.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("`{command}` failed ({status})")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// Packages are missing and cannot be installed from here.
    #[error(
        "missing packages: {missing}. Not root and no password-less sudo: run\n  sudo apt-get update && sudo apt-get install -y {missing}"
    )]
    CannotInstall {
        /// Space-separated package names.
        missing: String,
    },
    /// The simulator daemons.
    #[error(transparent)]
    Pcscd(#[from] pos_sim_stack::PcscdError),
}

/// The workspace root (parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Setup => packages::setup(),
        Command::Up => pcscd::up().map(|_| ()).map_err(Into::into),
        Command::Down => pcscd::down().map_err(Into::into),
        Command::Status => {
            println!("{}", pcscd::status());
            Ok(())
        }
        Command::Test { args } => run::test(&args),
        Command::Demo => run::demo(),
        Command::Hil { bench } => run::hil(&bench),
        Command::Bench { args } => run::bench(&args),
        Command::Fuzz {
            target,
            seconds,
            if_nightly,
        } => run::fuzz(&target, seconds, if_nightly),
        Command::UsbHil {
            action: UsbHilAction::Run,
        } => run::usb_hil_run(),
        Command::UsbHil {
            action: UsbHilAction::Test { package },
        } => run::usb_hil_test(&package),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
