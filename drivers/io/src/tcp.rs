//! TCP (printers on port 9100, network readers).

use std::io::{self, ErrorKind, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::Deadline;
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

    fn drain(&mut self, limit: Duration) {
        // SO_RCVTIMEO counts in jiffies (4 ms at HZ=250), so the default drain's 1 ms read costs
        // several: poll without blocking instead, granting the same 1 ms of quiet to bytes in
        // flight. A status round trip on a LAN printer is well under that.
        const QUIET: Duration = Duration::from_millis(1);
        let Ok(stream) = self.stream() else {
            return;
        };
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let deadline = Deadline::after(limit);
        let mut quiet_since = Instant::now();
        let mut buf = [0u8; 256];
        while !deadline.expired() {
            match stream.read(&mut buf) {
                Ok(0) => break, // closed: the next read reports it
                Ok(_) => quiet_since = Instant::now(),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if quiet_since.elapsed() >= QUIET {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(100));
                }
                Err(_) => break,
            }
        }
        let _ = stream.set_nonblocking(false);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    #[test]
    fn drain_drops_what_arrived_and_the_next_read_sees_only_new_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut t = TcpTransport::new(listener.local_addr().expect("addr").to_string());
        t.connect().expect("connect");
        let (mut peer, _) = listener.accept().expect("accept");
        peer.write_all(b"stale status bytes").expect("write");
        std::thread::sleep(Duration::from_millis(20));
        t.drain(Duration::from_millis(500));
        peer.write_all(b"N").expect("write");
        let mut buf = [0u8; 32];
        let n = t.read(&mut buf, Duration::from_secs(2)).expect("read");
        assert_eq!(&buf[..n], b"N");
    }

    #[test]
    fn drain_ends_at_its_limit_while_the_peer_keeps_talking() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut t = TcpTransport::new(listener.local_addr().expect("addr").to_string());
        t.connect().expect("connect");
        let (mut peer, _) = listener.accept().expect("accept");
        let talker = std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(3);
            while Instant::now() < end && peer.write_all(&[0x11; 512]).is_ok() {}
        });
        let start = Instant::now();
        t.drain(Duration::from_millis(200));
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        t.reset();
        let _ = talker.join();
    }
}
