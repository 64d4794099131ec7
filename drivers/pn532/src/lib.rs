//! A `#![no_std]` driver for the NXP PN532 contactless reader over its UART (HSU), generic over
//! [`embedded_io`] `Read + Write + ReadReady` and a [`Timer`], implementing pos-hal's
//! [`PiccReader`](pos_hal::PiccReader): poll type A and B (collision reported), ISO-DEP APDU
//! exchange with MI chaining, presence and removal, release. [`frame`] is the PN532 frame
//! codec in both directions (the simulator's PN532 emulator uses it too).
//!
//! The port is the UART (any `embedded-io` serial), or I2C / SPI through embedded-hal 1.0
//! with the adapters in [`bus`] ([`bus::I2cPort`], [`bus::SpiPort`]).
//!
//! With the `std` feature, [`open_serial`] opens one on a serial device or pty.
#![no_std]
#![warn(missing_docs)]

pub mod bus;
mod driver;
pub mod frame;
#[cfg(feature = "std")]
mod std_port;

pub use driver::{Error, MAX_COMMAND_APDU, Pn532, Timer, Timing};
#[cfg(feature = "std")]
pub use std_port::{PortError, StdTimer, TransportPort, open_serial};
