//! Contact chip card readers (ISO 7816).

use core::time::Duration;

use crate::atr::Atr;
use crate::cancel::CancelToken;
use crate::card::CardChannel;
use crate::device::Device;

/// What a contact reader can do.
///
/// ```
/// use pos_hal::IccCaps;
/// let caps = IccCaps::default().with_max_apdu(65_544);
/// assert!(caps.t0 && caps.t1);
/// assert_eq!(caps.max_apdu, 65_544);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct IccCaps {
    /// Speaks T=0.
    pub t0: bool,
    /// Speaks T=1.
    pub t1: bool,
    /// Longest command APDU it accepts (261 short, 65 544 extended).
    pub max_apdu: usize,
}

impl Default for IccCaps {
    /// T=0 and T=1 with short APDUs: what every EMV reader offers.
    fn default() -> Self {
        Self {
            t0: true,
            t1: true,
            max_apdu: 261,
        }
    }
}

impl IccCaps {
    /// With the protocols given.
    pub const fn with_protocols(mut self, t0: bool, t1: bool) -> Self {
        self.t0 = t0;
        self.t1 = t1;
        self
    }
    /// With the longest command APDU given.
    pub const fn with_max_apdu(mut self, max_apdu: usize) -> Self {
        self.max_apdu = max_apdu;
        self
    }
}

/// A contact chip card reader.
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
pub trait IccReader: CardChannel + Device {
    /// What the reader can do.
    fn caps(&self) -> IccCaps;
    /// True when a card is in the slot.
    fn card_present(&mut self) -> Result<bool, Self::Error>;
    /// Waits until a card is inserted, `timeout` passes ([`Timeout`](crate::ErrorKind::Timeout))
    /// or `cancel` fires ([`Cancelled`](crate::ErrorKind::Cancelled)).
    fn wait_for_card(&mut self, timeout: Duration, cancel: &CancelToken)
    -> Result<(), Self::Error>;
    /// Powers the card (cold reset) and returns its ATR.
    fn power_on(&mut self) -> Result<Atr, Self::Error>;
    /// Powers the card down.
    fn power_off(&mut self) -> Result<(), Self::Error>;
}

macro_rules! forward_icc {
    ($($ty:ty),*) => {$(
        impl<T: IccReader + ?Sized> IccReader for $ty {
            fn caps(&self) -> IccCaps {
                T::caps(self)
            }
            fn card_present(&mut self) -> Result<bool, Self::Error> {
                T::card_present(self)
            }
            fn wait_for_card(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<(), Self::Error> {
                T::wait_for_card(self, timeout, cancel)
            }
            fn power_on(&mut self) -> Result<Atr, Self::Error> {
                T::power_on(self)
            }
            fn power_off(&mut self) -> Result<(), Self::Error> {
                T::power_off(self)
            }
        }
    )*};
}
forward_icc!(&mut T);
#[cfg(feature = "alloc")]
forward_icc!(alloc::boxed::Box<T>);
