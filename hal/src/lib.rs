//! # pos-hal — the peripherals of a POS terminal as Rust traits
//!
//! `pos-hal` is a `#![no_std]
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
pub use pinpad::{EncryptedPinBlock, PinBlockFormat, PinEntry, PinPad, PinRequest};
pub use printer::{Charsets, JobResult, PaperState, PrinterCaps, PrinterStatus, ReceiptPrinter};
pub use receipt::{Align, BarcodeKind, CutKind, Receipt, ReceiptLine, TextSize, TextStyle};
pub use secret::Secret;
pub use track::{ServiceCode, Track1, Track2, Track3, TrackError, Tracks};
