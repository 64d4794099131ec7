//! TCP (printers on port 9100, network readers).

use std::io::{self, ErrorKind, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::transport::{Transport, write_by_deadline};

/// A TCP peer. Host names are allowed; reconnects after a failure.
#[derive(Debug)]
pub struct TcpTransport {
    address: String,
    connect_timeout: Duration,
    stream: Option<TcpStream>,
}

impl TcpTransport {
    /// `host:port`; connects at first use.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            connect_timeout: Duration::from_secs(5),
            stream: None,
        }
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        if self.stream.is_none() {
            let mut last = io::Error::new(ErrorKind::NotFound, "address resolves to nothing");
            for addr in self.address.to_socket_addrs()? {
                match TcpStream::connect_timeout(&addr, self.connect_timeout) {
                    Ok(s) => {
                        s.set_nodelay(true)?;
                        self.stream = Some(s);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            if self.stream.is_none() {
                return Err(last);
            }
        }
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(ErrorKind::NotConnected))
    }

    /// Opens the connection now (to report an unreachable device early).
    pub fn connect(&mut self) -> io::Result<()> {
        self.stream().map(|_| ())
    }
}

impl Transport for TcpTransport {
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)> {
        let stream = self.stream().map_err(|e| (0, e))?;
        write_by_deadline(stream, data, timeout, |s, left| {
            s.set_write_timeout(Some(left))
        })
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let stream = self.stream()?;
        stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        match stream.read(buf) {
            Ok(0) => Err(io::Error::from(ErrorKind::ConnectionAborted)),
            Ok(n) => Ok(n),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn can_read(&self) -> bool {
        true
    }

    fn reset(&mut self) {
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn describe(&self) -> String {
        format!("tcp:{}", self.address)
    }
}
