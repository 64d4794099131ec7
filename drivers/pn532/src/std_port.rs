//! A [`pos_io::Transport`] (serial port, pty) as the driver's port, and a std timer.

extern crate std;

use core::time::Duration;
use std::io;
use std::time::Instant;

use pos_io::Transport;

use crate::driver::Timer;

/// Any pos-io transport as an embedded-io port. `read_ready` waits up to a millisecond for a
/// byte (which it keeps for the next `read`), so the driver's wait loops do not spin.
#[derive(Debug)]
pub struct TransportPort<T: Transport> {
    transport: T,
    peeked: Option<u8>,
}

impl<T: Transport> TransportPort<T> {
    /// Wraps `transport`.
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            peeked: None,
        }
    }
}

/// A port failure, with its kind for the HAL.
#[derive(Debug)]
pub struct PortError(pub io::Error);

impl core::fmt::Display for PortError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for PortError {}

impl embedded_io::Error for PortError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0.kind() {
            io::ErrorKind::TimedOut => embedded_io::ErrorKind::TimedOut,
            io::ErrorKind::NotConnected => embedded_io::ErrorKind::NotConnected,
            io::ErrorKind::BrokenPipe => embedded_io::ErrorKind::BrokenPipe,
            io::ErrorKind::NotFound => embedded_io::ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => embedded_io::ErrorKind::PermissionDenied,
            _ => embedded_io::ErrorKind::Other,
        }
    }
}

impl<T: Transport> embedded_io::ErrorType for TransportPort<T> {
    type Error = PortError;
}

impl<T: Transport> embedded_io::ReadReady for TransportPort<T> {
    fn read_ready(&mut self) -> Result<bool, PortError> {
        if self.peeked.is_some() {
            return Ok(true);
        }
        let mut one = [0u8; 1];
        let n = self
            .transport
            .read(&mut one, Duration::from_millis(1))
            .map_err(PortError)?;
        if n == 1 {
            self.peeked = Some(one[0]);
        }
        Ok(n == 1)
    }
}

impl<T: Transport> embedded_io::Read for TransportPort<T> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PortError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(b) = self.peeked.take() {
            buf[0] = b;
            let more = self
                .transport
                .read(&mut buf[1..], Duration::from_millis(1))
                .map_err(PortError)?;
            return Ok(1 + more);
        }
        self.transport
            .read(buf, Duration::from_millis(100))
            .map_err(PortError)
    }
}

impl<T: Transport> embedded_io::Write for TransportPort<T> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, PortError> {
        self.transport
            .write_all(buf, Duration::from_millis(500))
            .map_err(|(_, e)| PortError(e))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), PortError> {
        Ok(())
    }
}

/// `Instant`-based time and a short sleep.
#[derive(Debug, Clone, Copy)]
pub struct StdTimer {
    start: Instant,
}

impl Default for StdTimer {
    fn default() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Timer for StdTimer {
    fn now(&mut self) -> Duration {
        self.start.elapsed()
    }

    fn pause(&mut self) {
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Opens a PN532 on a serial device at `baud` (115200 for the HSU default).
pub fn open_serial(
    path: &str,
    baud: u32,
) -> Result<
    crate::Pn532<TransportPort<pos_io::serial::SerialTransport>, StdTimer>,
    crate::Error<PortError>,
> {
    let transport = pos_io::serial::SerialTransport::new(path, baud, false);
    crate::Pn532::open(
        TransportPort::new(transport),
        StdTimer::default(),
        crate::Timing::default(),
        &std::format!("pn532:{path}"),
    )
}
