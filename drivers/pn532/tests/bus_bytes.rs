//! The exact bus traffic of the I2C and SPI adapters, against embedded-hal-mock: the frames
//! of the PN532 user manual, byte for byte (hand-computed checksums, not our encoder's).

use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as Spi};
use embedded_io::{Read, ReadReady, Write};
use pos_pn532::bus::{BitOrder, I2cPort, SpiPort};
use pos_pn532::{Pn532, StdTimer, Timing};

const ACK: [u8; 6] = [0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00];
/// SAMConfiguration normal mode, timeout 0x14, IRQ on.
const SAM: [u8; 12] = [
    0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01, 0x14, 0x01, 0x02, 0x00,
];
const SAM_OK: [u8; 9] = [0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00];
const GET_FIRMWARE: [u8; 9] = [0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00];
/// PN532 (0x32), firmware 1.6, support 0x07.
const FIRMWARE: [u8; 13] = [
    0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00,
];
/// RFConfiguration MaxRetries: ATR 0xFF, PSL 0x01, passive activation 0x02.
const MAX_RETRIES: [u8; 13] = [
    0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD4, 0x32, 0x05, 0xFF, 0x01, 0x02, 0xF3, 0x00,
];
const MAX_RETRIES_OK: [u8; 9] = [0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x33, 0xF8, 0x00];

/// Status byte 01 and `frame`, padded to the adapter's read length (1 + longest frame).
fn i2c_answer(frame: &[u8]) -> Vec<I2c> {
    let mut data = vec![0x01];
    data.extend_from_slice(frame);
    data.resize(1 + pos_pn532::frame::MAX_FRAME, 0x00);
    vec![I2c::read(0x24, vec![0x01]), I2c::read(0x24, data)]
}

#[test]
fn i2c_open_is_sam_configuration_firmware_and_retries_and_nothing_else() {
    let mut script = vec![
        // Before the first command: is anything stale waiting? No.
        I2c::read(0x24, vec![0x00]),
        I2c::write(0x24, SAM.to_vec()),
    ];
    script.extend(i2c_answer(&ACK));
    script.extend(i2c_answer(&SAM_OK));
    script.push(I2c::write(0x24, GET_FIRMWARE.to_vec()));
    script.extend(i2c_answer(&ACK));
    script.extend(i2c_answer(&FIRMWARE));
    script.push(I2c::write(0x24, MAX_RETRIES.to_vec()));
    script.extend(i2c_answer(&ACK));
    script.extend(i2c_answer(&MAX_RETRIES_OK));
    let reader = Pn532::open(
        I2cPort::new(I2cMock::new(&script)),
        StdTimer::default(),
        Timing::default(),
        "pn532-i2c",
    )
    .expect("open");
    assert_eq!(reader.firmware(), [0x32, 0x01, 0x06, 0x07]);
    reader.release().release().done();
}

#[test]
fn an_i2c_status_byte_without_the_ready_bit_means_nothing_to_read() {
    let mut port = I2cPort::new(I2cMock::new(&[I2c::read(0x24, vec![0x00])]));
    let mut buf = [0u8; 16];
    assert_eq!(port.read(&mut buf).expect("read"), 0);
    port.release().done();
}

#[test]
fn spi_on_an_msb_first_bus_sends_direction_and_frame_bit_reversed() {
    let reversed = |bytes: &[u8]| bytes.iter().map(|b| b.reverse_bits()).collect::<Vec<_>>();
    let mut write = vec![0x01];
    write.extend_from_slice(&GET_FIRMWARE);
    let mut answer = reversed(&FIRMWARE);
    answer.resize(pos_pn532::frame::MAX_FRAME, 0x00);
    let script = [
        Spi::transaction_start(),
        Spi::write_vec(reversed(&write)),
        Spi::transaction_end(),
        // Status read: 02 → 01 (ready), each reversed on the wire.
        Spi::transaction_start(),
        Spi::write_vec(vec![0x40]),
        Spi::read_vec(vec![0x80]),
        Spi::transaction_end(),
        // Data read: 03, then the frame.
        Spi::transaction_start(),
        Spi::write_vec(vec![0xC0]),
        Spi::read_vec(answer),
        Spi::transaction_end(),
    ];
    let mut port = SpiPort::new(SpiMock::new(&script), BitOrder::MsbFirstBus);
    port.write_all(&GET_FIRMWARE).expect("write");
    assert!(port.read_ready().expect("status"));
    let mut buf = [0u8; 64];
    let n = port.read(&mut buf).expect("read");
    assert_eq!(
        &buf[..n],
        &FIRMWARE,
        "only the frame, not the padding after it"
    );
    port.release().done();
}

#[test]
fn the_uart_wake_up_preamble_never_reaches_the_spi_bus() {
    let mut port = SpiPort::new(SpiMock::new(&[]), BitOrder::LsbFirstBus);
    let mut preamble = [0u8; 16];
    preamble[..2].copy_from_slice(&[0x55, 0x55]);
    port.write_all(&preamble).expect("write");
    port.release().done();
}
