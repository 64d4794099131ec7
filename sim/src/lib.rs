//! # pos-sim — simulators that speak the real protocols
//!
//! * [`card`]: the card model ([`card::Card`]) every card transport presents.
//! * [`vpcd`]: a virtual card that plugs into pcscd through vsmartcard's vpcd driver, as a TCP
//!   client, with fault switches (removal after N APDUs, delays, mute, garbage ATR, raw
//!   responses). In-process for tests ([`vpcd::VirtualCard`]) or as the `sim-card` binary.
//! * [`pcscd`]: starts/stops a private pcscd with the vpcd readers (used by `cargo xtask up`
//!   and by the driver tests that restart the daemon).
//! * [`slots`]: inserting a card into a vpcd slot and waiting until pcscd shows it.
//! * [`acquirer`]: the acquirer host (CUP ISO 8583 over TCP, SQLite ledger, faults), also as
//!   the `host-sim` binary; split into ledger / server / handlers.
//! * [`printer`]: a virtual ESC/POS printer on TCP, a pty or a USB gadget (transcripts, PNG
//!   rendering via [`printer::render`], `DLE EOT`/`GS r` answers, faults), also as the
//!   `sim-printer` binary; split into model / parser / servers / control, with one typed
//!   [`printer::ControlCommand`] shared by the binary and [`printer::PrinterControl`].
//! * [`hid_gadget`]: MagTek HID reports and keyboard-wedge keystrokes for the USB rig's
//!   magstripe gadgets.
//! * [`emv`]: an EMV/PBOC card built from a profile file (ATR, PSE/PPSE, applications,
//!   records, GPO, GET DATA, GENERATE AC placeholders), with a T=0 mode that answers `61xx`
//!   and `6Cxx` so that the terminal's GET RESPONSE handling is exercised.
//!
//! ```no_run
//! use pos_sim::emv::{CardProfile, EmvCard};
//! use pos_sim::vpcd::{Faults, VirtualCard};
//!
//! let profile = CardProfile::load("sim/profiles/unionpay-debit.toml")?;
//! let card = VirtualCard::insert(35963, EmvCard::new(profile), Faults::default())?;
//! // … pcscd now shows a card in "Virtual PCD 00 00" …
//! card.remove();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod acquirer;
pub mod card;
pub mod emv;
pub mod hid_gadget;
pub mod msr;
pub mod pn532;
pub mod printer;
pub mod scanner;
/// Pseudo-terminals (from pos-io, where pos-nfc's relay uses them too).
pub use pos_io::pty;

mod require;
mod server;
pub mod slots;
pub mod tlv;
pub mod vpcd;

/// The private pcscd + vpcd stack (its own crate, so that xtask can use it on a bare machine).
pub use pos_sim_stack as pcscd;
pub use require::{require, require_stack, require_usb_rig};

/// Installs the `tracing` subscriber of the simulator binaries: stderr, `RUST_LOG` (default
/// `warn`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
