//! # pos-terminal — the terminal core
//!
//! `#![no_std]` + `alloc`; it depends on `pos-hal` and never on a driver. This first part holds
//! what every payment flow needs to talk to the acquirer:
//!
//! * [`iso8583`]: the China UnionPay POS dialect of ISO 8583 — a declarative field table,
//!   pack/unpack with the bitmap, framing with length, TPDU and header, typed accessors.
//! * [`crypto`]: TDES/SM4, key check values, sign-in key blocks (field 62), PIN blocks
//!   (ISO 9564 format 0), the CUP ECB MAC, track encryption, and [`crypto::SoftwareKeyStore`], the software [`pos_hal::KeyStore`].
//! * [`slip`]: the merchant and cardholder sale slips as device-neutral receipts.
//! * [`host`]: the [`host::HostLink`] port the platform implements (TCP in `pos-platform`).
//! * [`journal`]: the [`journal::Journal`] port (durable STAN, batch, vouchers, outcomes).
//! * [`online`]: journal-before-send, answer checks (MAC, echoes) and automatic reversal;
//!   sign-in through key store operations; settlement with batch upload.
//! * [`flows`]: the POS flows as state machines without I/O (screens as data); the sale first.
//! * [`records`]: journal records read back for the records query, reprints and lists.
//! * [`requests`]: sale, balance, void, refund, pre-authorisation, cancel and completion as the
//!   acquirer expects them.
//!
//! ```
//! use pos_terminal::iso8583::{Frame, Message, Mti};
//!
//! let mut signin = Message::new(Mti::NETWORK_REQUEST);
//! signin.set_text(11, "000001")?.set_text(41, "12345678")?.set_text(42, "123456789012345")?;
//! signin.set_text(60, "00000001003")?.set_text(63, "01 ")?;
//! let frame = Frame::new([0x60, 0x00, 0x03, 0x00, 0x00], [0x60, 0x31, 0x00, 0x31, 0x00, 0x00]);
//! let bytes = frame.encode(&signin)?;
//! assert_eq!(bytes.len(), 62);
//! let (_, decoded) = Frame::decode(&bytes)?;
//! assert_eq!(decoded.text(41)?.as_deref(), Some(&b"12345678"[..]));
//! # Ok::<(), pos_terminal::iso8583::CodecError>(())
//! ```
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod crypto;
pub mod flows;
pub mod host;
pub mod iso8583;
pub mod journal;
pub mod online;
pub mod operators;
pub mod records;
pub mod requests;
pub mod slip;
