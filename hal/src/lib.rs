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
//! * **Testing**: scripted fakes of every trait live in the `pos-hal-mock` crate.
//! * **Heap-free**: the `alloc` feature only adds `Box<T>` impls of every trait and
//!   [`Receipt::plain_text`]; nothing else needs a heap.
//! * **Extension-safe**: caps, info, data and event types are `#[non_exhaustive]` with
//!   constructors; `&mut T` (and with `alloc`, `Box<T>`) implement every device trait.
//! * **Card channel**: the EMV kernel is written once over [`CardChannel`], which both
//!   [`IccReader`] and [`PiccReader`] extend; every device also implements [`Device`].
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

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod amount;
pub mod apdu;
pub mod atr;
pub mod bytes;
pub mod cancel;
pub mod card;
pub mod clock;
pub mod device;
pub mod entry;
pub mod error;
mod fixed;
pub mod icc;
pub mod indicators;
pub mod keys;
pub mod msr;
pub mod operator;
pub mod pan;
pub mod picc;
pub mod pinpad;
pub mod printer;
pub mod receipt;
pub mod scanner;
pub mod secret;
pub mod tlv;
pub mod track;

pub use amount::{Amount, AmountError};
pub use apdu::{Apdu, ApduError, Rapdu, StatusWord};
pub use atr::{Atr, AtrError, Convention, Protocols};
pub use bytes::{CapacityError, InlineBytes};
pub use cancel::CancelToken;
pub use card::CardChannel;
pub use clock::{Clock, DateTime, DateTimeError};
pub use device::{
    Claim, Claimed, Device, DeviceInfo, DeviceKind, HealthLevel, HealthReport, HealthStatus,
};
pub use entry::{CardEntry, CardEvent, EntryModes};
pub use error::{Error, ErrorKind, ErrorType};
pub use fixed::FixedStr;
pub use icc::{IccCaps, IccReader};
pub use indicators::{BeepKind, ContactlessLeds, Indicators};
pub use keys::{KeySlot, KeyStore, MacAlgorithm, PinDigits};
pub use msr::{EncryptedSwipe, MagstripeReader, MsrCaps, Swipe, TrackFault, TrackRead};
pub use operator::{Display, DisplayCaps, Key, Keypad};
pub use pan::{Pan, PanError};
pub use picc::{
    Atqb, Ats, CardProtocol, Historical, PiccCaps, PiccReader, PollOutcome, RfType, Target,
    TargetTypes, Uid,
};
pub use pinpad::{
    CardPinKey, EncryptedPinBlock, OfflinePinData, OfflinePinEntry, OfflinePinRequest,
    PinBlockFormat, PinEntry, PinPad, PinRequest,
};
pub use printer::{Charsets, JobResult, PaperState, PrinterCaps, PrinterStatus, ReceiptPrinter};
pub use receipt::{Align, BarcodeKind, CutKind, Receipt, ReceiptLine, TextSize, TextStyle};
pub use scanner::{CodeError, CodeScanner, ScannedCode};
pub use secret::Secret;
pub use track::{ServiceCode, Track1, Track2, Track3, TrackError, Tracks};
