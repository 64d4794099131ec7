//! A `#![no_std]` crate that uses the HAL the way firmware would: generic over the traits, no
//! heap, no std. If pos-hal pulled in std or alloc for these paths, this would not compile.
#![no_std]

extern crate std; // only for the test harness itself

use core::time::Duration;
use pos_hal::{Apdu, CancelToken, Error, ErrorKind, IccReader, StatusWord};

/// Selects the contact PSE and returns the number of FCI bytes, with a stack buffer only.
pub fn select_pse<R: IccReader>(reader: &mut R) -> Result<usize, ErrorKind> {
    reader
        .wait_for_card(Duration::from_secs(5), &CancelToken::new())
        .map_err(|e| e.kind())?;
    reader.power_on().map_err(|e| e.kind())?;
    let mut buf = [0u8; 258];
    let select = Apdu::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(b"1PAY.SYS.DDF01")
        .with_le(256);
    let rsp = reader.transmit(&select, &mut buf).map_err(|e| e.kind())?;
    match rsp.sw {
        StatusWord::OK => Ok(rsp.data.len()),
        _ => Err(ErrorKind::Protocol),
    }
}

#[test]
fn generic_no_std_code_runs() {
    use pos_hal::mock::{IccCall, MockIccReader};
    let atr = pos_hal::Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01]).expect("atr");
    let mut select = std::vec![0x00, 0xA4, 0x04, 0x00, 14];
    select.extend_from_slice(b"1PAY.SYS.DDF01");
    select.push(0);
    let mut reader = MockIccReader::new([
        IccCall::WaitForCard(Ok(())),
        IccCall::PowerOn(Ok(atr)),
        IccCall::transmit(&select, &[0x6F, 0x00, 0x90, 0x00]),
    ]);
    assert_eq!(select_pse(&mut reader), Ok(2));
}
