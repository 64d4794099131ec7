//! Byte pipes to a printer: the shared `pos-io` transports (the `escpos` crate's own drivers
//! lose partial writes, ignore read timeouts and reject host names: notes/printers-magstripe.md
//! §1), plus the USB printer-class specifics.

#[cfg(feature = "serial")]
pub use pos_io::serial::{SerialConfig, SerialTransport};
#[cfg(feature = "tcp")]
pub use pos_io::tcp::TcpTransport;
pub use pos_io::{FileTransport, Transport};

#[cfg(feature = "usb")]
pub use usb::UsbTransport;

#[cfg(feature = "usb")]
mod usb {
    use std::io;
    use std::time::Duration;

    use pos_io::Transport;
    use pos_io::usb::{UsbBulk, UsbMatch};

    /// USB printer class (interface class 7).
    const PRINTER_CLASS: u8 = 7;

    /// A USB printer through libusb: found by VID:PID (and serial number), or the first
    /// interface of the printer class; usblp detached while claimed and given back on release;
    /// found again after an unplug.
    #[derive(Debug)]
    pub struct UsbTransport(UsbBulk);

    impl UsbTransport {
        /// Opens `vid:pid`, or with `None` the first device with a printer-class interface.
        pub fn open(ids: Option<(u16, u16)>) -> Result<Self, rusb::Error> {
            Self::open_serial(ids, None)
        }

        /// Like [`open`](Self::open), but only the device whose iSerialNumber is `serial`.
        pub fn open_serial(
            ids: Option<(u16, u16)>,
            serial: Option<&str>,
        ) -> Result<Self, rusb::Error> {
            // By VID:PID any interface with a bulk OUT will do (Epson's vendor-class mode).
            UsbBulk::open(UsbMatch {
                ids,
                serial: serial.map(str::to_string),
                class: Some(PRINTER_CLASS),
            })
            .map(Self)
        }

        /// The IEEE 1284 device id (`MFG:…;CMD:ESC/POS;MDL:…;`) from the printer class request
        /// GET_DEVICE_ID.
        pub fn device_id(&mut self) -> io::Result<String> {
            let mut buf = [0u8; 1024];
            let n = self
                .0
                .control_in(0xA1, 0x00, 0, &mut buf, Duration::from_secs(1))?;
            // Two bytes of big-endian length (including themselves), then the string.
            let len = usize::from(u16::from_be_bytes([buf[0], buf[1]])).clamp(2, n.max(2));
            Ok(String::from_utf8_lossy(&buf[2..len]).into_owned())
        }

        /// The interface number claimed (for sysfs lookups).
        pub fn interface(&self) -> Option<u8> {
            self.0.interface()
        }
    }

    impl Transport for UsbTransport {
        fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)> {
            self.0.write_all(data, timeout)
        }
        fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
            self.0.read(buf, timeout)
        }
        fn can_read(&self) -> bool {
            self.0.can_read()
        }
        fn reset(&mut self) {
            self.0.reset()
        }
        fn describe(&self) -> String {
            self.0.describe()
        }
    }
}
