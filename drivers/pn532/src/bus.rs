//! The PN532 on I2C or SPI (embedded-hal 1.0) as the driver's byte port.
//!
//! The driver speaks frames over `embedded-io`; these adapters carry the frames over the
//! buses as the PN532 user manual (UM0701-02 §6.2.4–6.2.5) describes them:
//! - **I2C** (address 0x24): a write transfers one frame; every read starts with a status
//!   byte whose bit 0 says whether an answer is ready, followed by the answer.
//! - **SPI** (mode 0, LSB first): each transfer starts with a direction byte — `01` data
//!   write, `02` status read, `03` data read. Buses that only shift MSB first get every byte
//!   bit-reversed in software ([`BitOrder::MsbFirstBus`]).
//!
//! Both read a whole answer frame in one transfer (the chip does not resume a frame split
//! across transfers) and keep only the frame: what the chip clocks out after it is dropped.
//! HSU's wake-up preamble (bytes without a frame start) is not sent: on these buses the chip
//! wakes on its address or chip select.

use crate::frame;

/// The PN532's 7-bit I2C address.
pub const I2C_ADDRESS: u8 = 0x24;

/// Bytes read per answer: a status byte and the longest frame.
const READ_LEN: usize = 1 + frame::MAX_FRAME;

/// A bus failure, with its kind for `embedded-io`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusError(pub embedded_io::ErrorKind);

impl core::fmt::Display for BusError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PN532 bus error: {:?}", self.0)
    }
}

impl core::error::Error for BusError {}

impl embedded_io::Error for BusError {
    fn kind(&self) -> embedded_io::ErrorKind {
        self.0
    }
}

/// The received frame, and how much of it the driver has taken.
#[derive(Debug)]
struct Inbox {
    bytes: [u8; frame::MAX_FRAME],
    len: usize,
    taken: usize,
}

impl Inbox {
    const fn new() -> Self {
        Self {
            bytes: [0; frame::MAX_FRAME],
            len: 0,
            taken: 0,
        }
    }

    fn pending(&self) -> bool {
        self.taken < self.len
    }

    /// Keeps the first frame of `data` (all of it when it is not a frame: the driver's
    /// decoder skips garbage and resynchronises).
    fn fill(&mut self, data: &[u8]) {
        let keep = frame::decode(data)
            .map_or(data.len(), |(_, used)| used)
            .min(self.bytes.len());
        self.bytes[..keep].copy_from_slice(&data[..keep]);
        self.len = keep;
        self.taken = 0;
    }

    fn take(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.len - self.taken);
        buf[..n].copy_from_slice(&self.bytes[self.taken..self.taken + n]);
        self.taken += n;
        n
    }
}

/// True for the bytes of a frame; false for HSU's wake-up preamble.
fn has_frame_start(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| w == [0x00, 0xFF])
}

/// A PN532 on an I2C bus.
#[derive(Debug)]
pub struct I2cPort<I> {
    bus: I,
    address: u8,
    inbox: Inbox,
}

impl<I: embedded_hal::i2c::I2c> I2cPort<I> {
    /// The chip at its usual address, [`I2C_ADDRESS`].
    pub fn new(bus: I) -> Self {
        Self::with_address(bus, I2C_ADDRESS)
    }

    /// The chip at another address (behind an address translator).
    pub fn with_address(bus: I, address: u8) -> Self {
        Self {
            bus,
            address,
            inbox: Inbox::new(),
        }
    }

    /// Gives the bus back.
    pub fn release(self) -> I {
        self.bus
    }
}

fn i2c_error(e: impl embedded_hal::i2c::Error) -> BusError {
    use embedded_hal::i2c::ErrorKind as K;
    BusError(match e.kind() {
        K::NoAcknowledge(_) => embedded_io::ErrorKind::NotConnected,
        K::ArbitrationLoss | K::Bus => embedded_io::ErrorKind::Interrupted,
        _ => embedded_io::ErrorKind::Other,
    })
}

impl<I> embedded_io::ErrorType for I2cPort<I> {
    type Error = BusError;
}

impl<I: embedded_hal::i2c::I2c> embedded_io::ReadReady for I2cPort<I> {
    fn read_ready(&mut self) -> Result<bool, BusError> {
        if self.inbox.pending() {
            return Ok(true);
        }
        let mut status = [0u8; 1];
        self.bus
            .read(self.address, &mut status)
            .map_err(i2c_error)?;
        if status[0] & 0x01 == 0 {
            return Ok(false);
        }
        let mut answer = [0u8; READ_LEN];
        self.bus
            .read(self.address, &mut answer)
            .map_err(i2c_error)?;
        if answer[0] & 0x01 == 0 {
            return Ok(false);
        }
        self.inbox.fill(&answer[1..]);
        Ok(self.inbox.pending())
    }
}

impl<I: embedded_hal::i2c::I2c> embedded_io::Read for I2cPort<I> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, BusError> {
        use embedded_io::ReadReady;
        if buf.is_empty() || !self.read_ready()? {
            return Ok(0);
        }
        Ok(self.inbox.take(buf))
    }
}

impl<I: embedded_hal::i2c::I2c> embedded_io::Write for I2cPort<I> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, BusError> {
        if has_frame_start(buf) {
            self.bus.write(self.address, buf).map_err(i2c_error)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), BusError> {
        Ok(())
    }
}

/// How the SPI bus shifts bits; the PN532 wants LSB first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOrder {
    /// The bus is configured LSB first: bytes go as they are.
    LsbFirstBus,
    /// The bus only shifts MSB first: every byte is bit-reversed in software.
    MsbFirstBus,
}

/// SPI direction bytes (before any bit reversal).
const SPI_DATA_WRITE: u8 = 0x01;
const SPI_STATUS_READ: u8 = 0x02;
const SPI_DATA_READ: u8 = 0x03;

/// A PN532 on an SPI bus (mode 0).
#[derive(Debug)]
pub struct SpiPort<S> {
    spi: S,
    order: BitOrder,
    inbox: Inbox,
}

impl<S: embedded_hal::spi::SpiDevice> SpiPort<S> {
    /// The chip on `spi`, whose bus shifts bits in `order`.
    pub fn new(spi: S, order: BitOrder) -> Self {
        Self {
            spi,
            order,
            inbox: Inbox::new(),
        }
    }

    /// Gives the device back.
    pub fn release(self) -> S {
        self.spi
    }

    fn wire(&self, byte: u8) -> u8 {
        match self.order {
            BitOrder::LsbFirstBus => byte,
            BitOrder::MsbFirstBus => byte.reverse_bits(),
        }
    }

    fn fix_read(&self, bytes: &mut [u8]) {
        if self.order == BitOrder::MsbFirstBus {
            bytes.iter_mut().for_each(|b| *b = b.reverse_bits());
        }
    }
}

fn spi_error(_: impl embedded_hal::spi::Error) -> BusError {
    BusError(embedded_io::ErrorKind::Other)
}

impl<S> embedded_io::ErrorType for SpiPort<S> {
    type Error = BusError;
}

impl<S: embedded_hal::spi::SpiDevice> embedded_io::ReadReady for SpiPort<S> {
    fn read_ready(&mut self) -> Result<bool, BusError> {
        use embedded_hal::spi::Operation;
        if self.inbox.pending() {
            return Ok(true);
        }
        let mut status = [0u8; 1];
        self.spi
            .transaction(&mut [
                Operation::Write(&[self.wire(SPI_STATUS_READ)]),
                Operation::Read(&mut status),
            ])
            .map_err(spi_error)?;
        self.fix_read(&mut status);
        if status[0] & 0x01 == 0 {
            return Ok(false);
        }
        let mut answer = [0u8; frame::MAX_FRAME];
        self.spi
            .transaction(&mut [
                Operation::Write(&[self.wire(SPI_DATA_READ)]),
                Operation::Read(&mut answer),
            ])
            .map_err(spi_error)?;
        self.fix_read(&mut answer);
        self.inbox.fill(&answer);
        Ok(self.inbox.pending())
    }
}

impl<S: embedded_hal::spi::SpiDevice> embedded_io::Read for SpiPort<S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, BusError> {
        use embedded_io::ReadReady;
        if buf.is_empty() || !self.read_ready()? {
            return Ok(0);
        }
        Ok(self.inbox.take(buf))
    }
}

impl<S: embedded_hal::spi::SpiDevice> embedded_io::Write for SpiPort<S> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, BusError> {
        use embedded_hal::spi::Operation;
        if !has_frame_start(buf) {
            return Ok(buf.len());
        }
        let mut out = [0u8; 1 + frame::MAX_FRAME];
        let n = (1 + buf.len()).min(out.len());
        out[0] = SPI_DATA_WRITE;
        out[1..n].copy_from_slice(&buf[..n - 1]);
        if self.order == BitOrder::MsbFirstBus {
            out[..n].iter_mut().for_each(|b| *b = b.reverse_bits());
        }
        self.spi
            .transaction(&mut [Operation::Write(&out[..n])])
            .map_err(spi_error)?;
        Ok(n - 1)
    }

    fn flush(&mut self) -> Result<(), BusError> {
        Ok(())
    }
}
