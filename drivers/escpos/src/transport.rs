//! Byte pipes to a printer, written by us (the `escpos` crate's drivers lose partial writes,
//! ignore read timeouts and reject host names: notes/printers-magstripe.md §1).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use pos_io::Deadline;

/// A connection to a printer.
pub trait Transport: Send + fmt::Debug {
    /// Writes all of `data` within `timeout`; on failure also says how many bytes got out.
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)>;
    /// Reads what arrives within `timeout`; `Ok(0)` when nothing came.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// True when the printer can answer (status read-back).
    fn can_read(&self) -> bool;
    /// Discards unread input, so that a stale answer is never taken for a new one.
    fn drain(&mut self) {
        let mut buf = [0u8; 64];
        while matches!(self.read(&mut buf, Duration::from_millis(1)), Ok(n) if n > 0) {}
    }
    /// Closes the connection; the next call opens it again.
    fn reset(&mut self);
    /// What it talks to.
    fn describe(&self) -> String;
}

impl Transport for Box<dyn Transport> {
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)> {
        (**self).write_all(data, timeout)
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).read(buf, timeout)
    }
    fn can_read(&self) -> bool {
        (**self).can_read()
    }
    fn drain(&mut self) {
        (**self).drain()
    }
    fn reset(&mut self) {
        (**self).reset()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        ErrorKind::TimedOut,
        "printer did not accept the data in time",
    )
}

/// Writes all of `data` before the deadline, re-arming the writer's timeout with what is left
/// before every write; on failure says how many bytes got out.
fn write_by_deadline<W: Write + ?Sized>(
    writer: &mut W,
    data: &[u8],
    timeout: Duration,
    mut set_timeout: impl FnMut(&mut W, Duration) -> io::Result<()>,
) -> Result<(), (usize, io::Error)> {
    let deadline = Deadline::after(timeout);
    let mut sent = 0;
    while sent < data.len() {
        let left = deadline.remaining_nonzero().ok_or((sent, timed_out()))?;
        set_timeout(writer, left).map_err(|e| (sent, e))?;
        match writer.write(&data[sent..]) {
            Ok(0) => return Err((sent, io::Error::from(ErrorKind::WriteZero))),
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err((sent, timed_out()));
            }
            Err(e) => return Err((sent, e)),
        }
    }
    Ok(())
}

/// TCP port 9100 ("raw" / JetDirect). Host names are allowed; reconnects after a failure.
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

    /// Opens the connection now (to report an unreachable printer early).
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

/// A serial port (RS-232, USB-serial, a pty in tests).
pub struct SerialTransport {
    path: String,
    baud: u32,
    flow: serialport::FlowControl,
    port: Option<Box<dyn serialport::SerialPort>>,
}

impl fmt::Debug for SerialTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerialTransport")
            .field("path", &self.path)
            .field("baud", &self.baud)
            .finish()
    }
}

impl SerialTransport {
    /// `path` at `baud` (8N1), with hardware (RTS/CTS) or no flow control.
    pub fn new(path: impl Into<String>, baud: u32, hardware_flow: bool) -> Self {
        let flow = if hardware_flow {
            serialport::FlowControl::Hardware
        } else {
            serialport::FlowControl::None
        };
        Self {
            path: path.into(),
            baud,
            flow,
            port: None,
        }
    }

    fn port(&mut self) -> io::Result<&mut Box<dyn serialport::SerialPort>> {
        if self.port.is_none() {
            let port = serialport::new(&self.path, self.baud)
                .flow_control(self.flow)
                .timeout(Duration::from_millis(100))
                .open()
                .map_err(io::Error::from)?;
            self.port = Some(port);
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
        let port = self.port().map_err(|e| (0, e))?;
        write_by_deadline(port, data, timeout, |p, left| {
            p.set_timeout(left).map_err(io::Error::from)
        })?;
        port.flush().map_err(|e| (data.len(), e))
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
        let rtscts = if self.flow == serialport::FlowControl::Hardware {
            ":rtscts"
        } else {
            ""
        };
        format!("serial:{}:{}{rtscts}", self.path, self.baud)
    }
}

/// A device file such as `/dev/usb/lp0` (usblp), or any file to capture a job.
#[derive(Debug)]
pub struct FileTransport {
    path: PathBuf,
    file: Option<File>,
    readable: bool,
}

impl FileTransport {
    /// `path`; `/dev/usb/lp*` nodes are read back for status, plain files are not.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let readable = path.starts_with("/dev/usb");
        Self {
            path,
            file: None,
            readable,
        }
    }

    fn file(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let file = OpenOptions::new()
                .read(self.readable)
                .append(!self.readable)
                .write(true)
                .create(!self.readable)
                .open(&self.path)?;
            self.file = Some(file);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::from(ErrorKind::NotConnected))
    }

    /// Opens the file now.
    pub fn connect(&mut self) -> io::Result<()> {
        self.file().map(|_| ())
    }
}

impl Transport for FileTransport {
    fn write_all(&mut self, data: &[u8], _timeout: Duration) -> Result<(), (usize, io::Error)> {
        let file = self.file().map_err(|e| (0, e))?;
        file.write_all(data).map_err(|e| (0, e))?;
        file.flush().map_err(|e| (data.len(), e))
    }

    fn read(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
        if !self.readable {
            return Ok(0);
        }
        // usblp answers reads with what the printer sent on bulk IN (or 0 after its timeout).
        self.file()?.read(buf)
    }

    fn can_read(&self) -> bool {
        self.readable
    }

    fn reset(&mut self) {
        self.file = None;
    }

    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }
}

/// A USB printer-class device through libusb: found by VID:PID (or the first interface of
/// class 7), kernel driver (usblp) detached while claimed and re-attached on release, bulk OUT
/// written in chunks with partial writes completed, bulk IN read for status. After the device
/// vanished (unplug) the next call looks for it again.
pub struct UsbTransport {
    ids: Option<(u16, u16)>,
    serial: Option<String>,
    claimed: Option<Claimed>,
    label: String,
}

struct Claimed {
    handle: rusb::DeviceHandle<rusb::Context>,
    interface: u8,
    out_ep: u8,
    in_ep: Option<u8>,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        // With auto-detach on, releasing the interface gives it back to usblp.
        let _ = self.handle.release_interface(self.interface);
    }
}

impl fmt::Debug for UsbTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsbTransport")
            .field("device", &self.label)
            .field("claimed", &self.claimed.is_some())
            .finish()
    }
}

const USB_CHUNK: usize = 4096;

/// The device's iSerialNumber, when it has one and it can be read.
pub(crate) fn serial_number<T: rusb::UsbContext>(
    device: &rusb::Device<T>,
    desc: &rusb::DeviceDescriptor,
) -> Option<String> {
    desc.serial_number_string_index()?;
    let handle = device.open().ok()?;
    handle.read_serial_number_string_ascii(desc).ok()
}

fn find_and_claim(
    ids: Option<(u16, u16)>,
    serial: Option<&str>,
) -> Result<(Claimed, String), rusb::Error> {
    // A fresh context each time: without udevd (containers, minimal systems) a long-lived
    // libusb context never learns that an unplugged device came back.
    let context = rusb::Context::new()?;
    for device in rusb::UsbContext::devices(&context)?.iter() {
        let desc = device.device_descriptor()?;
        if let Some((vid, pid)) = ids
            && (desc.vendor_id() != vid || desc.product_id() != pid)
        {
            continue;
        }
        if let Some(want) = serial
            && serial_number(&device, &desc).as_deref() != Some(want)
        {
            continue;
        }
        let Ok(config) = device.active_config_descriptor() else {
            continue;
        };
        for iface in config.interfaces() {
            for alt in iface.descriptors() {
                // Class 7 (printer), or anything with a bulk OUT when opened by VID:PID
                // (Epson's vendor-class mode).
                if alt.class_code() != 7 && ids.is_none() {
                    continue;
                }
                let mut out_ep = None;
                let mut in_ep = None;
                for ep in alt.endpoint_descriptors() {
                    if ep.transfer_type() == rusb::TransferType::Bulk {
                        match ep.direction() {
                            rusb::Direction::Out => out_ep = out_ep.or(Some(ep.address())),
                            rusb::Direction::In => in_ep = in_ep.or(Some(ep.address())),
                        }
                    }
                }
                let Some(out_ep) = out_ep else { continue };
                let handle = device.open()?;
                let _ = handle.set_auto_detach_kernel_driver(true);
                handle.claim_interface(alt.interface_number())?;
                let mut label = format!("usb:{:04x}:{:04x}", desc.vendor_id(), desc.product_id());
                if let Some(want) = serial {
                    label = format!("{label}:{want}");
                }
                return Ok((
                    Claimed {
                        handle,
                        interface: alt.interface_number(),
                        out_ep,
                        in_ep,
                    },
                    label,
                ));
            }
        }
    }
    Err(rusb::Error::NotFound)
}

impl UsbTransport {
    /// Opens `vid:pid`, or with `None` the first device with a printer-class interface.
    pub fn open(ids: Option<(u16, u16)>) -> Result<Self, rusb::Error> {
        Self::open_serial(ids, None)
    }

    /// Like [`open`](Self::open), but only the device whose iSerialNumber is `serial`.
    pub fn open_serial(ids: Option<(u16, u16)>, serial: Option<&str>) -> Result<Self, rusb::Error> {
        let (claimed, label) = find_and_claim(ids, serial)?;
        Ok(Self {
            ids,
            serial: serial.map(str::to_string),
            claimed: Some(claimed),
            label,
        })
    }

    fn claimed(&mut self) -> io::Result<&mut Claimed> {
        if self.claimed.is_none() {
            let (claimed, label) =
                find_and_claim(self.ids, self.serial.as_deref()).map_err(usb_io)?;
            self.claimed = Some(claimed);
            self.label = label;
        }
        self.claimed
            .as_mut()
            .ok_or_else(|| io::Error::from(ErrorKind::NotConnected))
    }

    /// The IEEE 1284 device id (`MFG:…;CMD:ESC/POS;MDL:…;`) from the printer class request
    /// GET_DEVICE_ID.
    pub fn device_id(&mut self) -> io::Result<String> {
        let c = self.claimed()?;
        let mut buf = [0u8; 1024];
        let index = u16::from(c.interface) << 8;
        let n = c
            .handle
            .read_control(0xA1, 0x00, 0, index, &mut buf, Duration::from_secs(1))
            .map_err(usb_io)?;
        // Two bytes of big-endian length (including themselves), then the string.
        let len = usize::from(u16::from_be_bytes([buf[0], buf[1]])).clamp(2, n.max(2));
        Ok(String::from_utf8_lossy(&buf[2..len]).into_owned())
    }

    /// The interface number claimed (for sysfs lookups).
    pub fn interface(&self) -> Option<u8> {
        self.claimed.as_ref().map(|c| c.interface)
    }
}

fn usb_io(e: rusb::Error) -> io::Error {
    match e {
        rusb::Error::Timeout => timed_out(),
        rusb::Error::NoDevice | rusb::Error::NotFound => {
            io::Error::from(ErrorKind::ConnectionAborted)
        }
        rusb::Error::Access => io::Error::from(ErrorKind::PermissionDenied),
        other => io::Error::other(other),
    }
}

impl Transport for UsbTransport {
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)> {
        let deadline = Deadline::after(timeout);
        let mut sent = 0;
        while sent < data.len() {
            // libusb takes a 0 ms timeout as "wait forever": under 1 ms left is a timeout.
            let left = deadline.remaining_nonzero().ok_or((sent, timed_out()))?;
            let end = (sent + USB_CHUNK).min(data.len());
            let c = self.claimed().map_err(|e| (sent, e))?;
            // rusb returns Ok(n < len) on a timeout after a partial transfer: keep going.
            match c.handle.write_bulk(c.out_ep, &data[sent..end], left) {
                Ok(n) => sent += n,
                Err(e) => return Err((sent, usb_io(e))),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let c = self.claimed()?;
        let Some(ep) = c.in_ep else { return Ok(0) };
        match c
            .handle
            .read_bulk(ep, buf, timeout.max(Duration::from_millis(1)))
        {
            Ok(n) => Ok(n),
            Err(rusb::Error::Timeout) => Ok(0),
            Err(e) => Err(usb_io(e)),
        }
    }

    fn can_read(&self) -> bool {
        self.claimed.as_ref().is_none_or(|c| c.in_ep.is_some())
    }

    fn reset(&mut self) {
        // Release (usblp comes back); the next call finds and claims the device again.
        self.claimed = None;
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}
