//! # pos-io — std I/O shared by the POS drivers and simulators
//!
//! * [`Deadline`]: every blocking call in the workspace turns its `Duration` timeout into one
//!   of these; it saturates instead of overflowing.
//! * [`frame`]: the 2-byte big-endian length-prefixed framing of the CUP host link and the
//!   vpcd protocol, written once for the terminal, the host simulator and the virtual card.

mod deadline;
pub mod frame;

pub use deadline::Deadline;
