//! Contact chip card readers (ISO 7816).

use core::time::Duration;

use crate::apdu::{Apdu, Rapdu};
use crate::atr::Atr;
use crate::cancel::CancelToken;
use crate::device::{DeviceInfo, HealthCheck};
use crate::error::ErrorType;

/// What a card reader can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderCaps {
    /// Has a contact slot.
    pub contact: bool,
    /// Has a contactless antenna.
    pub contactless: bool,
    /// Speaks T=0.
    pub t0: bool,
    /// Speaks T=1.
    pub t1: bool,
    /// Longest command APDU it accepts (261 short, 65 544 extended).
    pub max_apdu: usize,
}

/// A contact chip card reader.
///
/// `transmit` writes the response into a caller buffer, so no heap is needed. Drivers handle
/// `61xx` (GET RESPONSE) and `6Cxx` (re-send with the right Le) before returning.
///
/// ```
/// use pos_hal::{IccReader, Apdu, ErrorKind, Error};
/// fn select_pse<R: IccReader + ?Sized>(reader: &mut R) -> Result<Vec<u8>, ErrorKind> {
///     reader.power_on().map_err(|e| e.kind())?;
///     let mut buf = [0u8; 258];
///     let cmd = Apdu::new(0x00, 0xA4, 0x04, 0x00).with_data(b"1PAY.SYS.DDF01").with_le(256);
///     let rsp = reader.transmit(&cmd, &mut buf).map_err(|e| e.kind())?;
///     Ok(rsp.data.to_vec())
/// }
/// ```
pub trait IccReader: ErrorType + HealthCheck {
    /// What the reader can do.
    fn caps(&self) -> ReaderCaps;
    /// Identifies the reader.
    fn info(&self) -> DeviceInfo;
    /// True when a card is in the slot.
    fn card_present(&mut self) -> Result<bool, Self::Error>;
    /// Waits until a card is inserted, `timeout` passes ([`Timeout`](crate::ErrorKind::Timeout))
    /// or `cancel` fires ([`Cancelled`](crate::ErrorKind::Cancelled)).
    fn wait_for_card(&mut self, timeout: Duration, cancel: &CancelToken)
    -> Result<(), Self::Error>;
    /// Powers the card (cold reset) and returns its ATR.
    fn power_on(&mut self) -> Result<Atr, Self::Error>;
    /// Sends a command APDU; the response data and status word land in `response`.
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, Self::Error>;
    /// Powers the card down.
    fn power_off(&mut self) -> Result<(), Self::Error>;
}
