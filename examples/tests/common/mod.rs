//! What the `pos` tests share: a scratch directory, host-sim and the virtual printer, and the
//! `pos` command pointed at them.

#![allow(dead_code)] // each test binary uses its part

use std::path::{Path, PathBuf};
use std::process::Command;

use pos_sim::acquirer::{HostConfig, HostSim};
use pos_sim::printer::VirtualPrinter;

/// A scratch directory, removed when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    /// The host's ledger (its SQLite file), to check the books.
    pub fn ledger(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.0.join("ledger.sqlite")).expect("ledger")
    }

    /// The balance of the account `pan` at the host, in fen.
    pub fn balance(&self, pan: &str) -> i64 {
        self.ledger()
            .query_row("SELECT balance FROM accounts WHERE pan = ?1", [pan], |r| {
                r.get(0)
            })
            .expect("account")
    }

    /// How many transactions of `kind` the host approved.
    pub fn booked(&self, kind: &str) -> i64 {
        self.ledger()
            .query_row(
                "SELECT COUNT(*) FROM txns WHERE kind = ?1 AND rc = '00'",
                [kind],
                |r| r.get(0),
            )
            .expect("count")
    }

    /// The terminal's journal file of this stage.
    pub fn journal(&self) -> PathBuf {
        self.0.join("journal.sqlite")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a `pos` run talks to: host-sim (demo set-up, ledger in `dir`) and a 58 mm virtual
/// printer over TCP.
pub struct Stage {
    pub dir: Dir,
    pub host: HostSim,
    pub printer: VirtualPrinter,
}

impl Stage {
    /// A fresh stage in `$TMP/pos-{suite}-{name}-{pid}`.
    pub fn new(suite: &str, name: &str) -> Self {
        Self::with_host(suite, name, |_| {})
    }

    /// A fresh stage whose host runs with the demo configuration changed by `configure`.
    pub fn with_host(suite: &str, name: &str, configure: impl FnOnce(&mut HostConfig)) -> Self {
        let p = std::env::temp_dir().join(format!("pos-{suite}-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("dir");
        let mut config = HostConfig::demo(p.join("ledger.sqlite"));
        configure(&mut config);
        Self {
            host: HostSim::start(config).expect("host"),
            printer: VirtualPrinter::tcp(0, 384, None).expect("printer"),
            dir: Dir(p),
        }
    }
}

/// A script of `examples/scripts/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

/// `pos --flow FLOW` against `host` and `printer`, with `journal` and `script`.
pub fn pos_command(
    flow: &str,
    host: &HostSim,
    printer: &VirtualPrinter,
    journal: &Path,
    script: &Path,
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pos"));
    cmd.arg("--flow")
        .arg(flow)
        .arg("--host")
        .arg(host.addr().to_string())
        .arg("--printer")
        .arg(format!("escpos:tcp:{}", printer.endpoint()))
        .arg("--journal")
        .arg(journal)
        .arg("--script")
        .arg(script);
    cmd
}
