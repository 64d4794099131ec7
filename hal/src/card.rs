//! The card channel: what every card interface (contact, contactless, a SAM slot) offers once a
//! card is powered or activated. The EMV kernel is written once against it.

use crate::apdu::{Apdu, Rapdu};
use crate::error::ErrorType;

/// Exchanges APDUs with a powered (contact) or activated (contactless) card.
///
/// The response goes into a caller buffer, so no heap is needed. Drivers handle `61xx`
/// (GET RESPONSE) and `6Cxx` (re-send with the right Le) before returning; a command the
/// reader cannot carry (too long) is an [`InvalidInput`](crate::ErrorKind::InvalidInput)
/// error raised before anything is sent.
///
/// ```
/// use pos_hal::{Apdu, CardChannel, Error, ErrorKind};
/// /// Works the same over a contact or a contactless reader.
/// fn select_ppse<C: CardChannel + ?Sized>(card: &mut C) -> Result<Vec<u8>, ErrorKind> {
///     let mut buf = [0u8; 258];
///     let cmd = Apdu::new(0x00, 0xA4, 0x04, 0x00).with_data(b"2PAY.SYS.DDF01").with_le(256);
///     let rsp = card.transmit(&cmd, &mut buf).map_err(|e| e.kind())?;
///     Ok(rsp.data.to_vec())
/// }
/// ```
pub trait CardChannel: ErrorType {
    /// Sends a command APDU; the response data and status word land in `response`.
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, Self::Error>;
}

impl<T: CardChannel + ?Sized> CardChannel for &mut T {
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, Self::Error> {
        T::transmit(self, command, response)
    }
}

#[cfg(feature = "alloc")]
impl<T: CardChannel + ?Sized> CardChannel for alloc::boxed::Box<T> {
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, Self::Error> {
        T::transmit(self, command, response)
    }
}
