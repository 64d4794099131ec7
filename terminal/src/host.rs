//! The port to the acquirer host. `pos-platform` implements it over TCP.

use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use pos_hal::{ErrorKind, ErrorType};

/// Why an exchange with the host failed. After any of these the outcome of a financial
/// request is unknown: the core keeps the reversal pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// Could not connect.
    Connect,
    /// Sent, but no complete answer in time.
    Timeout,
    /// The connection broke while sending or receiving.
    Disconnected,
    /// The answer's framing is broken (length prefix, oversize).
    Framing,
}

impl pos_hal::Error for HostError {
    fn kind(&self) -> ErrorKind {
        match self {
            HostError::Connect => ErrorKind::NoDevice,
            HostError::Timeout => ErrorKind::Timeout,
            HostError::Disconnected => ErrorKind::Disconnected,
            HostError::Framing => ErrorKind::Protocol,
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostError::Connect => "cannot connect to the host",
            HostError::Timeout => "host did not answer in time",
            HostError::Disconnected => "host connection lost",
            HostError::Framing => "host answer badly framed",
        })
    }
}

impl core::error::Error for HostError {}

/// Sends one framed request (TPDU + header + message, without the length prefix) and returns
/// the answer in the same form. Implementations add and strip the 2-byte length, apply
/// `timeout` to the whole exchange, and never return a late answer to an earlier request.
///
/// Errors follow the HAL's kind table: `Timeout`, `Disconnected` (the link broke mid-way),
/// `NoDevice` (cannot reach the host), `Protocol` (bad framing), `InvalidInput` (a request
/// the link cannot carry). [`HostError`] is a ready-made error type for simple links.
pub trait HostLink: ErrorType {
    /// One request/response exchange.
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<Vec<u8>, Self::Error>;
}

impl<T: HostLink + ?Sized> HostLink for &mut T {
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<Vec<u8>, Self::Error> {
        T::exchange(self, request, timeout)
    }
}

impl<T: HostLink + ?Sized> HostLink for alloc::boxed::Box<T> {
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<Vec<u8>, Self::Error> {
        T::exchange(self, request, timeout)
    }
}
