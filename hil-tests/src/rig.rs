//! The bench made concrete: a selector per role, with the simulators behind the `sim` roles
//! kept alive for the run.

use std::sync::Arc;

use pos_sim::acquirer::{HostConfig, HostSim};
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::msr::MsrEmulator;
use pos_sim::pn532::{Pn532Emulator, Presented};
use pos_sim::printer::VirtualPrinter;
use pos_sim::vpcd::{Faults, VirtualCard};

use crate::bench::{Bench, Role};

/// A fault the runner makes a simulator commit for the whole run (to prove the runner fails
/// loudly when a device misbehaves beyond what a scenario expects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// host-sim answers garbage.
    HostGarbage,
    /// The virtual printer is out of paper.
    PrinterPaperOut,
    /// host-sim acknowledges reversals but keeps the money (the matrix's books must differ).
    HostForgetsReversals,
}

/// Why a simulator could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RigError {
    /// A simulator failed to start.
    #[error("cannot start the {what} simulator: {why}")]
    Sim {
        /// Which.
        what: &'static str,
        /// Why.
        why: String,
    },
}

/// One role as resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A simulator at this selector.
    Sim(String),
    /// A real device at this selector: a person may be asked to act.
    Real(String),
    /// Not on this bench (or its simulator could not start), and why.
    Absent(String),
}

impl Resolved {
    /// The selector, when there is a device.
    pub fn selector(&self) -> Option<&str> {
        match self {
            Resolved::Sim(s) | Resolved::Real(s) => Some(s),
            Resolved::Absent(_) => None,
        }
    }

    /// Whether a simulator plays it.
    pub fn is_sim(&self) -> bool {
        matches!(self, Resolved::Sim(_))
    }
}

/// The bench with its simulators running.
pub struct Rig {
    /// The bench file.
    pub bench: Bench,
    /// Contact reader.
    pub contact: Resolved,
    /// Contactless reader.
    pub contactless: Resolved,
    /// Magnetic stripe reader.
    pub magstripe: Resolved,
    /// Receipt printer.
    pub printer: Resolved,
    /// Acquirer host (`host:port`).
    pub host: Resolved,
    /// Scratch directory (journals, ledgers).
    pub dir: std::path::PathBuf,
    pub(crate) msr: Option<Arc<MsrEmulator>>,
    pub(crate) printer_sim: Option<VirtualPrinter>,
    pub(crate) host_sim: Option<HostSim>,
    _pn532: Option<Pn532Emulator>,
    card: Option<VirtualCard>,
    started_pcscd: bool,
}

impl std::fmt::Debug for Rig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rig")
            .field("bench", &self.bench.name)
            .field("contact", &self.contact)
            .field("contactless", &self.contactless)
            .field("magstripe", &self.magstripe)
            .field("printer", &self.printer)
            .field("host", &self.host)
            .finish()
    }
}

fn debit() -> Result<EmvCard, RigError> {
    CardProfile::builtin("unionpay-debit")
        .map(EmvCard::new)
        .ok_or(RigError::Sim {
            what: "card",
            why: "no built-in unionpay-debit profile".into(),
        })
}

fn sim_err(what: &'static str) -> impl Fn(std::io::Error) -> RigError {
    move |e| RigError::Sim {
        what,
        why: e.to_string(),
    }
}

impl Rig {
    /// Starts the simulators the bench asks for; `faults` are committed by them all run long.
    pub fn start(bench: Bench, dir: &std::path::Path, faults: &[Fault]) -> Result<Self, RigError> {
        // A fresh scratch directory: the ledger and journals of an earlier run would be
        // counted in this run's books.
        let _ = std::fs::remove_dir_all(dir);
        let _ = std::fs::create_dir_all(dir);
        let real = |s: &str| Resolved::Real(s.to_string());
        let absent = || Resolved::Absent("not on this bench".into());
        let mut rig = Rig {
            contact: absent(),
            contactless: absent(),
            magstripe: absent(),
            printer: absent(),
            host: absent(),
            dir: dir.to_path_buf(),
            msr: None,
            printer_sim: None,
            host_sim: None,
            _pn532: None,
            card: None,
            started_pcscd: false,
            bench,
        };
        let roles = rig.bench.roles.clone();
        rig.contact = match &roles.contact {
            Role::Sim => rig.start_contact_sim()?,
            Role::Device(s) => real(s),
            Role::Absent => absent(),
        };
        rig.contactless = match &roles.contactless {
            Role::Sim => {
                let pn532 = Pn532Emulator::start().map_err(sim_err("PN532"))?;
                pn532.insert(Presented::iso_dep_a(debit()?, &[0x04, 0xA1, 0xB2, 0xC3]));
                let selector = format!("pn532:{}", pn532.path());
                rig._pn532 = Some(pn532);
                Resolved::Sim(selector)
            }
            Role::Device(s) => real(s),
            Role::Absent => absent(),
        };
        rig.magstripe = match &roles.magstripe {
            Role::Sim => {
                let msr = Arc::new(MsrEmulator::start().map_err(sim_err("magstripe"))?);
                let selector = format!("msr:serial:{}", msr.path());
                rig.msr = Some(msr);
                Resolved::Sim(selector)
            }
            Role::Device(s) => real(s),
            Role::Absent => absent(),
        };
        rig.printer = match &roles.printer {
            Role::Sim => {
                // Every job rendered as a PNG for the HTML report.
                let receipts = rig.dir.join("receipts");
                let _ = std::fs::create_dir_all(&receipts);
                let p = VirtualPrinter::tcp(0, 384, Some(receipts)).map_err(sim_err("printer"))?;
                if faults.contains(&Fault::PrinterPaperOut) {
                    p.set_paper(pos_sim::printer::Paper::Out);
                }
                let selector = format!("escpos:tcp:{}", p.endpoint());
                rig.printer_sim = Some(p);
                Resolved::Sim(selector)
            }
            Role::Device(s) => real(s),
            Role::Absent => absent(),
        };
        rig.host = match &roles.host {
            Role::Sim => {
                let mut config = HostConfig::demo(rig.dir.join("ledger.sqlite"));
                // The matrix's terminal: its own STANs, its own books.
                let mut matrix = config.terminals[0].clone();
                matrix.tid = crate::matrix::TERMINAL_ID.into();
                matrix.mid = crate::matrix::MERCHANT_ID.into();
                config.terminals.push(matrix);
                let host = HostSim::start(config).map_err(|e| RigError::Sim {
                    what: "host",
                    why: e.to_string(),
                })?;
                if faults.contains(&Fault::HostForgetsReversals) {
                    host.faults()
                        .forget_reversals
                        .store(true, std::sync::atomic::Ordering::Release);
                }
                if faults.contains(&Fault::HostGarbage) {
                    host.faults()
                        .garbage
                        .store(true, std::sync::atomic::Ordering::Release);
                }
                let addr = host.addr().to_string();
                rig.host_sim = Some(host);
                Resolved::Sim(addr)
            }
            Role::Device(s) => real(s.strip_prefix("tcp:").unwrap_or(s)),
            Role::Absent => absent(),
        };
        Ok(rig)
    }

    fn start_contact_sim(&mut self) -> Result<Resolved, RigError> {
        if !pos_sim::slots::stack_available() {
            match pos_sim::pcscd::up() {
                Ok(_) => self.started_pcscd = true,
                Err(e) => {
                    return Ok(Resolved::Absent(format!(
                        "pcscd + vpcd could not start: {e}"
                    )));
                }
            }
        }
        match pos_sim::slots::insert(0, debit()?, Faults::default()) {
            Ok(card) => {
                self.card = Some(card);
                Ok(Resolved::Sim(format!(
                    "pcsc:{}",
                    pos_sim::pcscd::READERS[0]
                )))
            }
            Err(e) => Ok(Resolved::Absent(format!(
                "the virtual card could not be inserted: {e}"
            ))),
        }
    }

    /// Takes the simulated contact card out and puts it back with `faults` (a card that will
    /// be pulled mid-command, for instance).
    pub(crate) fn reinsert_card(&mut self, faults: Faults) -> Result<(), String> {
        if let Some(card) = self.card.take() {
            pos_sim::slots::remove(card, 0).map_err(|e| e.to_string())?;
        }
        let card = pos_sim::slots::insert(0, debit().map_err(|e| e.to_string())?, faults)
            .map_err(|e| e.to_string())?;
        self.card = Some(card);
        Ok(())
    }

    /// Swipes the simulated stripe card shortly after the reader starts waiting.
    pub(crate) fn swipe_soon(&self, card: &str) -> Option<std::thread::JoinHandle<()>> {
        let msr = Arc::clone(self.msr.as_ref()?);
        let card = pos_sim::msr::SwipeCard::builtin(card)?;
        Some(std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let _ = msr.swipe(&card, pos_sim::msr::Framing::StxEtx);
        }))
    }

    /// Asks the person at the bench to do something (real devices only).
    pub(crate) fn ask(&self, what: &str) {
        println!("  >>> {what}");
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(card) = self.card.take() {
            let _ = pos_sim::slots::remove(card, 0);
        }
        if self.started_pcscd {
            let _ = pos_sim::pcscd::down();
        }
    }
}
