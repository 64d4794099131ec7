//! Serial ports (RS-232, USB-serial adapters, ptys in tests) with a builder.

use std::fmt;
use std::io::{self, ErrorKind, Read};
use std::time::Duration;

use crate::Deadline;
use crate::transport::{Transport, timed_out};

/// How to open a serial port: 8N1 at `baud`, with or without RTS/CTS.
///
/// ```
/// use pos_io::serial::SerialConfig;
/// let config = SerialConfig::new("/dev/ttyUSB0").baud(19_200).rtscts(true);
/// assert_eq!(config.describe(), "serial:/dev/ttyUSB0:19200:rtscts");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialConfig {
    path: String,
    baud: u32,
    rtscts: bool,
}

impl SerialConfig {
    /// `path` at 9600 baud without flow control.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            baud: 9600,
            rtscts: false,
        }
    }
    /// The baud rate.
    pub fn baud(mut self, baud: u32) -> Self {
        self.baud = baud;
        self
    }
    /// RTS/CTS hardware flow control.
    pub fn rtscts(mut self, on: bool) -> Self {
        self.rtscts = on;
        self
    }
    /// The address part of a selector: `serial:PATH:BAUD[:rtscts]`.
    pub fn describe(&self) -> String {
        let rtscts = if self.rtscts { ":rtscts" } else { "" };
        format!("serial:{}:{}{rtscts}", self.path, self.baud)
    }
    /// Opens the port now.
    pub fn open(self) -> io::Result<SerialTransport> {
        let mut t = SerialTransport {
            config: self,
            port: None,
        };
        t.port()?;
        Ok(t)
    }
}

/// Opens the port with its descriptor non-blocking (Unix): a blocking tty `write` waits until
/// every byte is queued, however long the peer takes, which no timeout can interrupt.
fn open_nonblocking(
    builder: serialport::SerialPortBuilder,
) -> io::Result<Box<dyn serialport::SerialPort>> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let port = builder.open_native().map_err(io::Error::from)?;
        let fd = port.as_raw_fd();
        // SAFETY: fcntl on the port's own open descriptor.
        let ok = unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) == 0
        };
        if !ok {
            return Err(io::Error::last_os_error());
        }
        Ok(Box::new(port))
    }
    #[cfg(not(unix))]
    {
        builder.open().map_err(io::Error::from)
    }
}

/// A serial port. Writes wait for the bytes to leave the UART only until the deadline: with
/// hardware flow control a printer that holds CTS low can stop them for ever.
pub struct SerialTransport {
    config: SerialConfig,
    port: Option<Box<dyn serialport::SerialPort>>,
}

impl fmt::Debug for SerialTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerialTransport")
            .field("config", &self.config)
            .field("open", &self.port.is_some())
            .finish()
    }
}

impl SerialTransport {
    /// `path` at `baud` (8N1), with hardware (RTS/CTS) or no flow control; opens at first use.
    pub fn new(path: impl Into<String>, baud: u32, hardware_flow: bool) -> Self {
        Self {
            config: SerialConfig::new(path).baud(baud).rtscts(hardware_flow),
            port: None,
        }
    }

    fn port(&mut self) -> io::Result<&mut Box<dyn serialport::SerialPort>> {
        if self.port.is_none() {
            let flow = if self.config.rtscts {
                serialport::FlowControl::Hardware
            } else {
                serialport::FlowControl::None
            };
            let builder = serialport::new(&self.config.path, self.config.baud)
                .flow_control(flow)
                .timeout(Duration::from_millis(100));
            self.port = Some(open_nonblocking(builder)?);
        }
        self.port
            .as_mut()
            .ok_or_else(|| io::Error::from(ErrorKind::NotConnected))
    }

    /// Opens the port now.
    pub fn connect(&mut self) -> io::Result<()> {
        self.port().map(|_| ())
    }
}

impl Transport for SerialTransport {
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)> {
        let deadline = Deadline::after(timeout);
        let port = self.port().map_err(|e| (0, e))?;
        // serialport waits (poll) for room before each write; on the non-blocking descriptor
        // the write then takes what fits and returns, so the deadline holds even when the peer
        // takes nothing (CTS held low, a stalled adapter).
        let mut sent = 0;
        while sent < data.len() {
            let left = deadline.remaining_nonzero().ok_or((sent, timed_out()))?;
            port.set_timeout(left)
                .map_err(|e| (sent, io::Error::from(e)))?;
            match port.write(&data[sent..]) {
                Ok(0) => return Err((sent, io::Error::from(ErrorKind::WriteZero))),
                Ok(n) => sent += n,
                Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock) => {}
                Err(e) if e.kind() == ErrorKind::TimedOut => return Err((sent, timed_out())),
                Err(e) => return Err((sent, e)),
            }
        }
        // Not `flush()` (tcdrain): it has no timeout. Watch the output queue empty instead.
        loop {
            match port.bytes_to_write() {
                Ok(0) => return Ok(()),
                Ok(left) if deadline.expired() => {
                    let sent = data.len().saturating_sub(left as usize);
                    return Err((sent, timed_out()));
                }
                Ok(_) => std::thread::sleep(deadline.slice(Duration::from_millis(5))),
                // Ptys and some adapters cannot tell: the bytes were handed over.
                Err(_) => return Ok(()),
            }
        }
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let port = self.port()?;
        port.set_timeout(timeout.max(Duration::from_millis(1)))
            .map_err(io::Error::from)?;
        match port.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == ErrorKind::TimedOut => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn can_read(&self) -> bool {
        true
    }

    fn reset(&mut self) {
        self.port = None;
    }

    fn describe(&self) -> String {
        self.config.describe()
    }
}
