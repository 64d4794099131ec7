//! # pos-hal — the peripherals of a POS terminal as Rust traits
//!
//! `pos-hal` is a `#![no_std]`, heap-free crate that defines what a payment terminal's
//! peripherals can do, so that a terminal core can be written once and run against real
//! drivers (PC/SC, libnfc, USB, serial, TCP) or against simulators.
//!
//! * **Errors** follow embedded-hal 1.0: every trait has an associated `Error` type that
//!   implements [`Error`], and generic code matches on [`Error::kind`] → [`ErrorKind`].
//! * **Blocking and dyn-compatible**: `Box<dyn IccReader<Error = E>>` compiles; every wait
//!   takes a [`Duration`](core::time::Duration) timeout and a [`CancelToken`] that another
//!   thread can trigger.
//! * **Value types** with their own validation: [`Apdu`]/[`Rapdu`], [`Atr`], [`Pan`],
//!   [`Tracks`], [`Amount`] and the device-neutral [`Receipt`].
//! * **Lifecycle**: devices are claimed for exclusive use with [`Claimed`]; dropping the claim
//!   releases the device (UnifiedPOS claim/release as typestate).
//! * **Testing**: the `mock` feature adds the `mock` module: scripted fakes for every trait.
//!
//! ```
//! use pos_hal::{Amount, Pan};
//!
//! let mut amount = Amount::ZERO;
//! for digit in [5, 0, 0, 0] {
//!     amount = amount.push_digit(digit)?;
//! }
//! assert_eq!(amount.to_string(), "50.00");
//!
//! let pan = Pan::parse("6234567890123452789")?;
//! assert_eq!(pan.to_string(), "623456*********2789");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
#![warn(missing_docs)]

#[cfg(any(test, feature = "mock"))]
extern crate alloc;
// The scripted fakes are test aids: they panic on a mismatch, which needs std's panicking check.
#[cfg(any(test, feature = "mock"))]
extern crate std;

pub mod amount;
pub mod apdu;
pub mod atr;
pub mod cancel;
pub mod clock;
pub mod device;
pub mod entry;
pub mod error;
mod fixed;
pub mod icc;
pub mod indicators;
pub mod msr;
pub mod operator;
pub mod pan;
pub mod picc;
pub mod pinpad;
pub mod printer;
pub mod receipt;
pub mod tlv;
pub mod track;

#[cfg(feature = "mock")]
pub mod mock;

pub use amount::{Amount, AmountError};
pub use apdu::{Apdu, ApduError, Rapdu, StatusWord};
pub use atr::{Atr, AtrError, Convention, Protocols};
pub use cancel::CancelToken;
pub use clock::{Clock, DateTime, DateTimeError};
pub use device::{
    Claim, Claimed, DeviceInfo, DeviceKind, HealthCheck, HealthLevel, HealthReport, HealthStatus,
};
pub use entry::{CardEntry, CardEvent, EntryModes};
pub use error::{Error, ErrorKind, ErrorType};
pub use fixed::{CapacityError, FixedStr};
pub use icc::{IccReader, ReaderCaps};
pub use indicators::{BeepKind, ContactlessLeds, Indicators};
pub use msr::{MagstripeReader, MsrCaps};
pub use operator::{Display, DisplayCaps, Key, Keypad};
pub use pan::{Pan, PanError};
pub use picc::{Historical, PiccReader, ShortBytes, Target, TargetKind, TargetTypes, Uid};
pub use pinpad::{EncryptedPinBlock, PinBlockFormat, PinEntry, PinPad, PinRequest};
pub use printer::{Charsets, JobResult, PaperState, PrinterCaps, PrinterStatus, ReceiptPrinter};
pub use receipt::{Align, BarcodeKind, CutKind, Receipt, ReceiptLine, TextSize, TextStyle};
pub use track::{ServiceCode, Track1, Track2, Track3, TrackError, Tracks};
