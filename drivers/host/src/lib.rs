//! # pos-platform — std implementations of the terminal core's ports
//!
//! [`TcpHostLink`] implements [`pos_terminal::host::HostLink`] over TCP.
//!
//! ```no_run
//! use std::time::Duration;
//! use pos_platform::TcpHostLink;
//! use pos_terminal::host::HostLink;
//!
//! let mut link = TcpHostLink::new("acquirer.example:5000");
//! let answer = link.exchange(&[0x60, 0x00, 0x03, 0x00, 0x00 /* … */], Duration::from_secs(30));
//! ```

#![warn(missing_docs)]

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use pos_terminal::host::{HostError, HostLink};

/// Largest answer accepted (the 2-byte length allows 65535).
const MAX_FRAME: usize = 65_535;

/// A TCP connection to the acquirer host.
#[derive(Debug)]
pub struct TcpHostLink {
    address: String,
    connect_timeout: Duration,
    keep_open: bool,
    stream: Option<TcpStream>,
}

impl TcpHostLink {
    /// A link to `address` (`host:port`; names are resolved at each connect). Connects lazily.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            connect_timeout: Duration::from_secs(10),
            keep_open: false,
            stream: None,
        }
    }

    /// Caps the time one connect attempt may take (the exchange deadline caps it too).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Keeps the connection open between exchanges (long-connection front-ends).
    pub fn keep_open(mut self, keep: bool) -> Self {
        self.keep_open = keep;
        self
    }

    /// True while a connection is open.
    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    fn connect(&mut self, deadline: Instant) -> Result<&mut TcpStream, HostError> {
        if self.stream.is_none() {
            let addrs = self.address.to_socket_addrs().map_err(|e| {
                tracing::warn!(address = %self.address, error = %e, "host address does not resolve");
                HostError::Connect
            })?;
            let mut last = HostError::Connect;
            for addr in addrs {
                let left = remaining(deadline).ok_or(HostError::Timeout)?;
                match TcpStream::connect_timeout(&addr, left.min(self.connect_timeout)) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        self.stream = Some(s);
                        break;
                    }
                    Err(e) if e.kind() == IoKind::TimedOut => last = HostError::Timeout,
                    Err(_) => last = HostError::Connect,
                }
            }
            if self.stream.is_none() {
                return Err(last);
            }
        }
        self.stream.as_mut().ok_or(HostError::Connect)
    }

    fn exchange_once(&mut self, request: &[u8], deadline: Instant) -> Result<Vec<u8>, HostError> {
        let len = u16::try_from(request.len()).map_err(|_| HostError::Framing)?;
        let stream = self.connect(deadline)?;
        let mut frame = Vec::with_capacity(request.len() + 2);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(request);
        stream
            .set_write_timeout(Some(remaining(deadline).ok_or(HostError::Timeout)?))
            .map_err(|_| HostError::Disconnected)?;
        stream.write_all(&frame).map_err(io_error)?;
        let mut prefix = [0u8; 2];
        read_exact_by(stream, &mut prefix, deadline)?;
        let len = usize::from(u16::from_be_bytes(prefix));
        if len == 0 || len > MAX_FRAME {
            return Err(HostError::Framing);
        }
        let mut answer = vec![0u8; len];
        read_exact_by(stream, &mut answer, deadline)?;
        Ok(answer)
    }
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

fn io_error(e: std::io::Error) -> HostError {
    match e.kind() {
        IoKind::WouldBlock | IoKind::TimedOut => HostError::Timeout,
        _ => HostError::Disconnected,
    }
}

fn read_exact_by(
    stream: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<(), HostError> {
    let mut at = 0;
    while at < buf.len() {
        let left = remaining(deadline).ok_or(HostError::Timeout)?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|_| HostError::Disconnected)?;
        match stream.read(&mut buf[at..]) {
            Ok(0) => return Err(HostError::Disconnected),
            Ok(n) => at += n,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(())
}

impl HostLink for TcpHostLink {
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<Vec<u8>, HostError> {
        let deadline = Instant::now() + timeout;
        let result = self.exchange_once(request, deadline);
        if result.is_err() || !self.keep_open {
            // After a failure the stream may still deliver a late answer: never read it.
            if let Some(s) = self.stream.take() {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
        if let Err(e) = &result {
            tracing::warn!(address = %self.address, error = %e, "host exchange failed");
        }
        result
    }
}
