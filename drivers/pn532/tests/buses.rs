//! pos-pn532 over I2C and SPI (embedded-hal 1.0) against the emulated chip of pos-sim
//! behind a bus model that follows the PN532 manual: I2C status byte before every answer,
//! SPI direction bytes, LSB-first bytes (bit-reversed on an MSB-first bus).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use embedded_hal::i2c::{self, I2c, Operation as I2cOp, SevenBitAddress};
use embedded_hal::spi::{self, Operation as SpiOp, SpiDevice};
use pos_hal::{Apdu, CancelToken, PiccReader, PollOutcome, RfType, TargetTypes};
use pos_pn532::bus::{BitOrder, I2C_ADDRESS, I2cPort, SpiPort};
use pos_pn532::frame;
use pos_pn532::{Pn532, StdTimer, Timing};
use pos_sim::card::Card;
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::pn532::{Pn532Chip, Presented};

fn debit() -> EmvCard {
    EmvCard::new(CardProfile::builtin("unionpay-debit").expect("profile"))
}

fn chip_with_card() -> Pn532Chip {
    let mut chip = Pn532Chip::new();
    chip.insert(Presented::iso_dep_a(debit(), &[0x08, 0xA1, 0xB2, 0xC3]));
    chip
}

/// The chip's side of a bus: frames it has to send, one per read.
struct Outbox {
    chip: Pn532Chip,
    frames: VecDeque<Vec<u8>>,
    /// Every frame the host wrote, for the assertions.
    written: Vec<Vec<u8>>,
}

impl Outbox {
    fn new(chip: Pn532Chip) -> Self {
        Self {
            chip,
            frames: VecDeque::new(),
            written: Vec::new(),
        }
    }

    fn host_wrote(&mut self, bytes: &[u8]) {
        self.written.push(bytes.to_vec());
        let mut out = self.chip.feed(bytes);
        while !out.is_empty() {
            let used = frame::decode(&out).map_or(out.len(), |(_, used)| used);
            self.frames.push_back(out.drain(..used).collect());
        }
    }

    /// Fills `buf` with the next frame (zeros after it) and consumes it.
    fn next_frame(&mut self, buf: &mut [u8]) {
        buf.fill(0);
        if let Some(f) = self.frames.pop_front() {
            let n = f.len().min(buf.len());
            buf[..n].copy_from_slice(&f[..n]);
        }
    }
}

/// PN532 on I2C: a write is a frame; a read is a status byte (bit 0: ready) and the frame.
struct I2cBus(Outbox);

impl i2c::ErrorType for I2cBus {
    type Error = Infallible;
}

impl I2c<SevenBitAddress> for I2cBus {
    fn transaction(&mut self, address: u8, ops: &mut [I2cOp<'_>]) -> Result<(), Infallible> {
        assert_eq!(address, I2C_ADDRESS);
        for op in ops {
            match op {
                I2cOp::Write(bytes) => self.0.host_wrote(bytes),
                I2cOp::Read(buf) => {
                    let ready = !self.0.frames.is_empty();
                    buf[0] = u8::from(ready);
                    if buf.len() > 1 && ready {
                        self.0.next_frame(&mut buf[1..]);
                    }
                }
            }
        }
        Ok(())
    }
}

/// PN532 on SPI: `01` + frame, `02` → status, `03` → frame; bytes LSB first on the wire.
struct SpiBus {
    outbox: Outbox,
    /// The host's bus shifts MSB first: what the chip sees is each byte reversed.
    msb_first: bool,
}

impl spi::ErrorType for SpiBus {
    type Error = Infallible;
}

impl SpiDevice for SpiBus {
    fn transaction(&mut self, ops: &mut [SpiOp<'_, u8>]) -> Result<(), Infallible> {
        let wire = |b: u8, msb: bool| if msb { b.reverse_bits() } else { b };
        let mut direction = None;
        for op in ops {
            match op {
                SpiOp::Write(bytes) => {
                    let bytes: Vec<u8> = bytes.iter().map(|&b| wire(b, self.msb_first)).collect();
                    match bytes.split_first() {
                        Some((0x01, frame)) => self.outbox.host_wrote(frame),
                        Some((&d, [])) => direction = Some(d),
                        // What a chip does with a byte it does not know: nothing.
                        _ => direction = None,
                    }
                }
                SpiOp::Read(buf) => {
                    match direction {
                        Some(0x02) => buf[0] = u8::from(!self.outbox.frames.is_empty()),
                        Some(0x03) => self.outbox.next_frame(buf),
                        _ => buf.fill(0),
                    }
                    buf.iter_mut().for_each(|b| *b = wire(*b, self.msb_first));
                }
                other => panic!("unexpected SPI operation {other:?}"),
            }
        }
        Ok(())
    }
}

fn ppse() -> Vec<u8> {
    let mut a = vec![0x00, 0xA4, 0x04, 0x00, 0x0E];
    a.extend_from_slice(b"2PAY.SYS.DDF01");
    a.push(0x00);
    a
}

/// Poll, then SELECT PPSE: the answer is the card model's own.
fn poll_and_select<R: PiccReader>(reader: &mut R)
where
    R::Error: std::fmt::Debug,
{
    let found = reader
        .poll(
            TargetTypes::AB,
            Duration::from_millis(500),
            &CancelToken::new(),
        )
        .expect("poll");
    let PollOutcome::Card(target) = found else {
        panic!("{found:?}");
    };
    assert_eq!(
        (target.rf, target.uid.as_bytes()),
        (RfType::A, &[0x08, 0xA1, 0xB2, 0xC3][..])
    );
    let raw = ppse();
    let mut buf = [0u8; 300];
    let r = reader
        .transmit(&Apdu::parse(&raw).expect("apdu"), &mut buf)
        .expect("exchange");
    let mut got = r.data.to_vec();
    got.extend_from_slice(&[r.sw.sw1(), r.sw.sw2()]);
    let mut reference = debit();
    reference.reset();
    assert_eq!(got, reference.transmit(&raw));
}

#[test]
fn over_i2c_the_chip_is_opened_polled_and_exchanges_apdus() {
    let port = I2cPort::new(I2cBus(Outbox::new(chip_with_card())));
    let mut reader =
        Pn532::open(port, StdTimer::default(), Timing::default(), "pn532-i2c").expect("open");
    assert_eq!(reader.firmware()[0], 0x32, "PN532 IC byte");
    poll_and_select(&mut reader);
}

#[test]
fn over_i2c_only_frames_go_on_the_bus_never_the_uart_wake_up_preamble() {
    let port = I2cPort::new(I2cBus(Outbox::new(chip_with_card())));
    let reader =
        Pn532::open(port, StdTimer::default(), Timing::default(), "pn532-i2c").expect("open");
    let bus = reader.release().release();
    assert!(!bus.0.written.is_empty());
    for w in &bus.0.written {
        assert!(w.starts_with(&[0x00, 0x00, 0xFF]), "not a frame: {w:02X?}");
    }
}

#[test]
fn over_an_lsb_first_spi_bus_the_chip_is_opened_polled_and_exchanges_apdus() {
    let spi = SpiBus {
        outbox: Outbox::new(chip_with_card()),
        msb_first: false,
    };
    let port = SpiPort::new(spi, BitOrder::LsbFirstBus);
    let mut reader =
        Pn532::open(port, StdTimer::default(), Timing::default(), "pn532-spi").expect("open");
    poll_and_select(&mut reader);
}

#[test]
fn over_an_msb_first_spi_bus_every_byte_is_bit_reversed() {
    let spi = SpiBus {
        outbox: Outbox::new(chip_with_card()),
        msb_first: true,
    };
    let mut reader = Pn532::open(
        SpiPort::new(spi, BitOrder::MsbFirstBus),
        StdTimer::default(),
        Timing::default(),
        "pn532-spi",
    )
    .expect("open");
    poll_and_select(&mut reader);
    // The same bus without the reversal cannot even open the chip.
    let spi = SpiBus {
        outbox: Outbox::new(chip_with_card()),
        msb_first: true,
    };
    assert!(
        Pn532::open(
            SpiPort::new(spi, BitOrder::LsbFirstBus),
            StdTimer::default(),
            Timing::default(),
            "pn532-spi"
        )
        .is_err()
    );
}
