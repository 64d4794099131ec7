//! An EMV / PBOC kernel for the POS terminal core, written over [`pos_hal::CardChannel`] so
//! the same code runs on a PC/SC reader, an NFC reader or a microcontroller.
//!
//! - [`tlv`](pos_hal::tlv) (in the HAL) and [`dol`]: BER-TLV and data object lists;
//!   [`tags`]: the dictionary, with cardholder data masked in logs;
//! - [`select`]: PSE and AID-list selection; [`contact`]: the contact transaction,
//!   host-mediated step by step;
//! - [`oda`], [`rsa`], [`capk`]: offline data authentication (SDA, DDA, CDA) with CA keys
//!   from configuration;
//! - [`issuer`]: the issuer's side of the cryptograms, for simulators and host tests.
//!
//! `#![no_std]` + `alloc`; the `config` feature (std) reads CAPK files.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod capk;
pub mod config;
pub mod contact;
pub mod contactless;
mod dates;
pub mod dol;
mod error;
pub mod io;
pub mod issuer;
pub mod oda;
pub mod pin;
pub mod records;
pub mod rsa;
pub mod select;
pub mod store;
pub mod tags;
pub mod tvr;

pub use capk::{Capk, CapkSet};
#[cfg(feature = "config")]
pub use config::ConfigFileError;
pub use config::{AidConfig, TerminalConfig};
pub use contact::{
    Completion, Contact, Cryptogram, CvmStep, HostAnswer, OdaMethod, OdaResult, OfflinePinPrep,
    PinEncipherment, TransactionData,
};
pub use contactless::{ContactlessCvm, ContactlessLimits, Tap, TapOutcome, tap};
pub use error::EmvError;
pub use select::{Candidate, SelectionMethod, candidates};
pub use store::TagStore;
pub use tvr::{Tsi, Tvr};
