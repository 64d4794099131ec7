//! The port to the acquirer host. `pos-platform` implements it over TCP.

use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use pos_hal::{CancelToken, ErrorKind, ErrorType};

use crate::iso8583::Frame;

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

/// True when `answer` is the host's answer to `request` (both TPDU + header + message, without
/// the length prefix): the answer's MTI is the request's response MTI, and the STAN (11) and
/// terminal id (41) are the request's. Anything else — a late answer to an earlier request, an
/// answer for another terminal, garbage — is not its answer.
///
/// ```
/// use pos_terminal::host::answers;
/// use pos_terminal::iso8583::{Frame, Message, Mti};
/// let frame = Frame::new([0x60, 0x00, 0x03, 0x00, 0x00], [0x60, 0x31, 0x00, 0x31, 0x00, 0x00]);
/// let mut req = Message::new(Mti::parse("0200")?);
/// req.set_stan(7)?.set_text(41, "12345678")?;
/// let mut rsp = Message::new(Mti::parse("0210")?);
/// rsp.set_stan(7)?.set_text(41, "12345678")?;
/// let (req, rsp) = (frame.encode_payload(&req)?, frame.encode_payload(&rsp)?);
/// assert!(answers(&req, &rsp));
/// assert!(!answers(&req, &req), "a request is not its own answer");
/// # Ok::<(), pos_terminal::iso8583::CodecError>(())
/// ```
pub fn answers(request: &[u8], answer: &[u8]) -> bool {
    // A request may carry an SM4 PIN block (the SM dialect); its STAN and terminal id read
    // the same in either dialect.
    let request = Frame::decode_payload(request)
        .or_else(|_| Frame::decode_payload_in(request, crate::iso8583::spec::Dialect::CupSm4));
    let (Ok((_, req)), Ok((_, rsp))) = (request, Frame::decode_payload(answer)) else {
        return false;
    };
    rsp.mti() == req.mti().response()
        && matches!((req.stan(), rsp.stan()), (Ok(a), Ok(b)) if a == b)
        && matches!((req.terminal_id(), rsp.terminal_id()), (Ok(a), Ok(b)) if a == b)
}

/// Sends one framed request (TPDU + header + message, without the length prefix) and returns
/// the answer in the same form. Implementations add and strip the 2-byte length, apply
/// `timeout` to the whole exchange, and never return a late answer to an earlier request.
///
/// Errors follow the HAL's kind table: `Timeout`, `Cancelled`, `Disconnected` (the link broke
/// mid-way), `NoDevice` (cannot reach the host), `Protocol` (bad framing), `InvalidInput` (a
/// request the link cannot carry). [`HostError`] is a ready-made error type for simple links.
pub trait HostLink: ErrorType {
    /// Sends `request` and returns the first frame `is_answer` accepts; frames it refuses
    /// (answers to earlier requests, answers for another terminal) are dropped. `cancel` stops
    /// the wait (then the outcome of the request is unknown).
    fn exchange_matching(
        &mut self,
        request: &[u8],
        timeout: Duration,
        cancel: &CancelToken,
        is_answer: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>, Self::Error>;

    /// Sends an ISO 8583 request and returns its answer, as [`answers`] decides.
    fn exchange(
        &mut self,
        request: &[u8],
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Vec<u8>, Self::Error> {
        self.exchange_matching(request, timeout, cancel, &|answer| answers(request, answer))
    }
}

impl<T: HostLink + ?Sized> HostLink for &mut T {
    fn exchange_matching(
        &mut self,
        request: &[u8],
        timeout: Duration,
        cancel: &CancelToken,
        is_answer: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>, Self::Error> {
        T::exchange_matching(self, request, timeout, cancel, is_answer)
    }
}

impl<T: HostLink + ?Sized> HostLink for alloc::boxed::Box<T> {
    fn exchange_matching(
        &mut self,
        request: &[u8],
        timeout: Duration,
        cancel: &CancelToken,
        is_answer: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>, Self::Error> {
        T::exchange_matching(self, request, timeout, cancel, is_answer)
    }
}
