//! The China UnionPay POS dialect of ISO 8583 (terminal ↔ POS centre).
//!
//! Wire layout (notes/payments-cup-emv.md §2.1): `LEN(2, binary) | TPDU(5) | HEADER(6) |
//! MTI(2, BCD) | BITMAP(8) | fields 2..=64`. Numeric fields are packed BCD, LL/LLL length
//! prefixes are BCD and count digits for numeric fields, characters for text and bytes for
//! binary fields. The field table is [`spec::CUP_POS`].
//!
//! Unpacking borrows: text and binary fields point into the input, numeric fields keep their
//! packed bytes and are decoded only when read ([`FieldValue::text`]). Re-packing a received
//! field copies its bytes unchanged.

mod error;
mod frame;
mod message;
pub mod spec;

pub use error::{CodecError, CodecErrorKind};
pub use frame::{Frame, HostRequest};
pub use message::{FieldValue, Message, Mti};
