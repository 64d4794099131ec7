//! `pos-backup`: the terminal's backup (备份) and restore — the journal (records, STAN,
//! voucher and batch counters, operators) and the device configuration — to and from a
//! directory.
//!
//! ```text
//! pos-backup export --journal pos.sqlite --devices devices.toml --to /media/usb/pos-backup
//! pos-backup import --from /media/usb/pos-backup --journal pos.sqlite --devices devices.toml
//! pos-backup check --journal pos.sqlite
//! ```
//! An export never overwrites; an import checks the backup (a sound journal, a device file
//! that parses) before it replaces anything, and replaces the journal in one rename.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pos_platform::{JournalError, SqliteJournal};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Back up and restore the POS journal and device configuration"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Writes `journal.sqlite` (and `devices.toml` with `--devices`) into a new directory.
    Export {
        /// The terminal's journal.
        #[arg(long)]
        journal: PathBuf,
        /// The terminal's device file.
        #[arg(long)]
        devices: Option<PathBuf>,
        /// The backup directory (created; must not hold a backup already).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restores a backup directory over the terminal's journal (and device file).
    Import {
        /// The backup directory.
        #[arg(long)]
        from: PathBuf,
        /// The terminal's journal (replaced).
        #[arg(long)]
        journal: PathBuf,
        /// The terminal's device file (replaced when the backup has one).
        #[arg(long)]
        devices: Option<PathBuf>,
    },
    /// Checks a journal's integrity.
    Check {
        /// The journal.
        #[arg(long)]
        journal: PathBuf,
    },
}

#[derive(Debug, thiserror::Error)]
enum BackupError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("{0} is not a device file: {1}")]
    Devices(PathBuf, String),
    #[error("{0} is damaged: {1}")]
    Damaged(PathBuf, String),
}

const JOURNAL: &str = "journal.sqlite";
const DEVICES: &str = "devices.toml";

fn export(journal: &Path, devices: Option<&Path>, to: &Path) -> Result<(), BackupError> {
    std::fs::create_dir_all(to).map_err(|e| BackupError::File(to.into(), e))?;
    let j = SqliteJournal::open(journal)?;
    j.export(to.join(JOURNAL))?;
    if let Some(devices) = devices {
        let target = to.join(DEVICES);
        if target.exists() {
            return Err(BackupError::Journal(JournalError::Exists(target)));
        }
        std::fs::copy(devices, &target).map_err(|e| BackupError::File(devices.into(), e))?;
    }
    Ok(())
}

fn import(from: &Path, journal: &Path, devices: Option<&Path>) -> Result<(), BackupError> {
    let backup_devices = from.join(DEVICES);
    let config = match (devices, backup_devices.exists()) {
        (Some(target), true) => {
            // Parse before anything is replaced.
            pos_examples::device_file::DeviceFile::load(&backup_devices)
                .map_err(|e| BackupError::Devices(backup_devices.clone(), e.to_string()))?;
            Some(target)
        }
        _ => None,
    };
    SqliteJournal::import(from.join(JOURNAL), journal)?;
    if let Some(target) = config {
        let staging = target.with_extension("import");
        std::fs::copy(&backup_devices, &staging)
            .and_then(|_| std::fs::rename(&staging, target))
            .map_err(|e| BackupError::File(target.into(), e))?;
    }
    Ok(())
}

fn run(args: Args) -> Result<String, BackupError> {
    match args.command {
        Command::Export {
            journal,
            devices,
            to,
        } => {
            export(&journal, devices.as_deref(), &to)?;
            Ok(format!("exported to {}", to.display()))
        }
        Command::Import {
            from,
            journal,
            devices,
        } => {
            import(&from, &journal, devices.as_deref())?;
            Ok(format!(
                "imported {} into {}",
                from.display(),
                journal.display()
            ))
        }
        Command::Check { journal } => match SqliteJournal::open(&journal)?.quick_check()? {
            None => Ok(format!("{}: ok", journal.display())),
            Some(problem) => Err(BackupError::Damaged(journal, problem)),
        },
    }
}

fn main() -> ExitCode {
    pos_examples::init_tracing();
    match run(Args::parse()) {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pos-backup: {e}");
            ExitCode::from(2)
        }
    }
}
