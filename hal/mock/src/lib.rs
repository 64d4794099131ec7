//! # pos-hal-mock — scripted fakes of every `pos-hal` trait
//!
//! Each fake is built from the calls it expects, in order, with the result each returns. A
//! call that does not match the next expectation panics with both sides shown; dropping a fake
//! with expectations left panics too (unless already panicking). Call `done()` to check early.
//! One scripted core ([`Script`]) serves every fake.
//!
//! ```
//! use pos_hal_mock::{IccCall, MockIccReader};
//! use pos_hal::{Apdu, Atr, CardChannel, IccReader};
//!
//! let atr = Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01])?;
//! let mut reader = MockIccReader::new([
//!     IccCall::PowerOn(Ok(atr)),
//!     IccCall::transmit(&[0x00, 0xB2, 0x01, 0x0C, 0x00], &[0x70, 0x00, 0x90, 0x00]),
//! ]);
//! assert_eq!(reader.power_on()?, atr);
//! let mut buf = [0u8; 64];
//! let rsp = reader.transmit(&Apdu::new(0x00, 0xB2, 0x01, 0x0C).with_le(256), &mut buf)?;
//! assert_eq!(rsp.data, &[0x70, 0x00]);
//! reader.done();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![allow(
    clippy::large_enum_variant,
    clippy::result_large_err,
    reason = "expectations hold the HAL's inline (heap-free) card data by value; size does not matter in a test aid"
)]

mod card;
mod devices;

pub use card::{Exchange, IccCall, MockIccReader, MockPiccReader, PiccCall};
pub use devices::{
    MockCardEntry, MockClock, MockDisplay, MockIndicators, MockKeypad, MockMagstripeReader,
    MockPinPad, MockPrinter, PrinterCall,
};

use std::collections::VecDeque;
use std::fmt;

use pos_hal::{
    CancelToken, DeviceInfo, DeviceKind, Error, ErrorKind, HealthLevel, HealthReport, HealthStatus,
};

/// The error every fake returns: just a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockError(pub ErrorKind);

impl Error for MockError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mock error: {}", self.0)
    }
}

impl std::error::Error for MockError {}

/// What a scripted call returns.
pub type MockResult<T> = Result<T, MockError>;

/// The scripted core: an ordered list of expected calls of one fake.
#[derive(Debug)]
pub struct Script<C: fmt::Debug> {
    device: &'static str,
    calls: VecDeque<C>,
}

impl<C: fmt::Debug> Script<C> {
    /// `device` names the fake in panic messages.
    pub fn new(device: &'static str, calls: impl IntoIterator<Item = C>) -> Self {
        Self {
            device,
            calls: calls.into_iter().collect(),
        }
    }

    /// Takes the next expectation and lets `accept` turn it into the result; `accept` returns
    /// the expectation back (`Err`) when `called` does not match it, and the fake panics.
    pub fn expect<T>(&mut self, called: &str, accept: impl FnOnce(C) -> Result<T, C>) -> T {
        let Some(next) = self.calls.pop_front() else {
            panic!(
                "{}: unexpected call {called}: the script is finished",
                self.device
            )
        };
        match accept(next) {
            Ok(result) => result,
            Err(expected) => panic!(
                "{}: expected {expected:?}, but {called} was called",
                self.device
            ),
        }
    }

    /// Like [`expect`](Self::expect), but a cancelled token answers `Cancelled` first, without
    /// taking an expectation (a real device returns as soon as it sees the token).
    pub fn expect_wait<T>(
        &mut self,
        cancel: &CancelToken,
        called: &str,
        accept: impl FnOnce(C) -> Result<MockResult<T>, C>,
    ) -> MockResult<T> {
        if cancel.is_cancelled() {
            return Err(MockError(ErrorKind::Cancelled));
        }
        self.expect(called, accept)
    }

    /// Panics unless every expected call was made.
    pub fn done(&mut self) {
        if !self.calls.is_empty() {
            let left = std::mem::take(&mut self.calls);
            panic!(
                "{}: {} expected call(s) never made: {left:?}",
                self.device,
                left.len()
            );
        }
    }
}

impl<C: fmt::Debug> Drop for Script<C> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.done();
        }
    }
}

pub(crate) fn info(kind: DeviceKind, name: &str) -> DeviceInfo {
    DeviceInfo::new(kind, "mock", name, &format!("mock:{name}"))
}

pub(crate) fn healthy(level: HealthLevel) -> MockResult<HealthReport> {
    Ok(HealthReport::new(level, HealthStatus::Ok, "mock device"))
}

/// `Device` for a fake: its info and an always-healthy check.
macro_rules! mock_device {
    ($ty:ty, $kind:expr, $name:literal) => {
        impl pos_hal::ErrorType for $ty {
            type Error = $crate::MockError;
        }
        impl pos_hal::Device for $ty {
            fn info(&self) -> pos_hal::DeviceInfo {
                $crate::info($kind, $name)
            }
            fn health_check(
                &mut self,
                level: pos_hal::HealthLevel,
            ) -> $crate::MockResult<pos_hal::HealthReport> {
                $crate::healthy(level)
            }
        }
    };
}
pub(crate) use mock_device;
