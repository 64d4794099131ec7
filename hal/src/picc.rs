//! Contactless (ISO 14443) card readers.

use core::time::Duration;

use crate::bytes::InlineBytes;
use crate::cancel::CancelToken;
use crate::card::CardChannel;
use crate::device::Device;

/// The RF signalling a target answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RfType {
    /// ISO 14443 type A.
    A,
    /// ISO 14443 type B.
    B,
    /// The reader does not say (some PC/SC readers).
    Unknown,
}

/// What a target speaks once activated; independent of [`RfType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CardProtocol {
    /// ISO 14443-4 (ISO-DEP): APDUs; every bank card.
    IsoDep,
    /// MIFARE Classic / Ultralight memory card.
    Mifare,
    /// Anything else (FeliCa, storage cards the reader reports by ATR).
    Other,
}

/// Which RF types a poll looks for, as bit flags.
///
/// ```
/// use pos_hal::TargetTypes;
/// assert_eq!(TargetTypes::A | TargetTypes::B, TargetTypes::AB);
/// assert!(TargetTypes::AB.contains(TargetTypes::B));
/// assert!(!TargetTypes::A.contains(TargetTypes::B));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TargetTypes(u8);

impl TargetTypes {
    /// Nothing.
    pub const NONE: Self = Self(0);
    /// ISO 14443 type A.
    pub const A: Self = Self(1);
    /// ISO 14443 type B.
    pub const B: Self = Self(2);
    /// Both A and B (what payment terminals poll for).
    pub const AB: Self = Self(3);
    /// True if all of `other` is included.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    /// True when a target of `rf` is wanted; an unknown RF type is wanted by any non-empty set.
    pub const fn admits(self, rf: RfType) -> bool {
        match rf {
            RfType::A => self.contains(Self::A),
            RfType::B => self.contains(Self::B),
            RfType::Unknown => self.0 != 0,
        }
    }
    /// True when no type is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl core::ops::BitOr for TargetTypes {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A card UID of 4, 7 or 10 bytes (or a PUPI for type B).
pub type Uid = InlineBytes<10>;
/// Historical bytes of the ATS (type A) or ATR (PC/SC), at most 15 per ISO 14443-4.
pub type Historical = InlineBytes<15>;
/// A full answer to select (type A, ISO-DEP), length byte included; at most 254 bytes.
pub type Ats = InlineBytes<254>;
/// A full ATQB (type B): 11 bytes, 12 with the extended ATQB.
pub type Atqb = InlineBytes<12>;

/// A card found by a poll.
///
/// ```
/// use pos_hal::{CardProtocol, RfType, Target, Uid};
/// let uid = Uid::new(&[0x04, 0x11, 0x22, 0x33])?;
/// let t = Target::new(RfType::A, CardProtocol::IsoDep, uid)
///     .with_type_a([0x00, 0x04], 0x20)
///     .with_ats(&[0x0A, 0x78, 0x80, 0x81, 0x02, 0x4B, 0x4F, 0x4E, 0x41, 0x14])?;
/// // T0 = 0x78: TA, TB, TC present, FSCI 8; historical bytes follow them.
/// assert_eq!(t.historical.as_bytes(), &[0x4B, 0x4F, 0x4E, 0x41, 0x14]);
/// # Ok::<(), pos_hal::CapacityError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// RF signalling (A/B).
    pub rf: RfType,
    /// What the target speaks.
    pub protocol: CardProtocol,
    /// UID / PUPI.
    pub uid: Uid,
    /// ATQA (type A), when reported.
    pub atqa: Option<[u8; 2]>,
    /// SAK (type A), when reported.
    pub sak: Option<u8>,
    /// The full ATS (type A ISO-DEP), when the reader reports it.
    pub ats: Option<Ats>,
    /// The full ATQB (type B), when the reader reports it.
    pub atqb: Option<Atqb>,
    /// Historical bytes from the ATS, or from the ATR a PC/SC reader builds.
    pub historical: Historical,
}

impl Target {
    /// A target with no activation data yet.
    pub fn new(rf: RfType, protocol: CardProtocol, uid: Uid) -> Self {
        Self {
            rf,
            protocol,
            uid,
            atqa: None,
            sak: None,
            ats: None,
            atqb: None,
            historical: Historical::EMPTY,
        }
    }

    /// With type A anticollision data.
    pub fn with_type_a(mut self, atqa: [u8; 2], sak: u8) -> Self {
        self.atqa = Some(atqa);
        self.sak = Some(sak);
        self
    }

    /// With the full ATS; the historical bytes are taken from it.
    pub fn with_ats(mut self, ats: &[u8]) -> Result<Self, crate::CapacityError> {
        self.ats = Some(Ats::new(ats)?);
        self.historical = Historical::truncated(ats_historical(ats));
        Ok(self)
    }

    /// With the full ATQB.
    pub fn with_atqb(mut self, atqb: &[u8]) -> Result<Self, crate::CapacityError> {
        self.atqb = Some(Atqb::new(atqb)?);
        Ok(self)
    }

    /// With historical bytes (from an ATR, when no ATS is known).
    pub fn with_historical(mut self, historical: &[u8]) -> Result<Self, crate::CapacityError> {
        self.historical = Historical::new(historical)?;
        Ok(self)
    }
}

/// The historical bytes of an ATS (`TL T0 [TA] [TB] [TC] hist…`); empty when malformed.
fn ats_historical(ats: &[u8]) -> &[u8] {
    let Some((&tl, rest)) = ats.split_first() else {
        return &[];
    };
    let body = rest
        .get(..usize::from(tl).saturating_sub(1))
        .unwrap_or(rest);
    let Some((&t0, after_t0)) = body.split_first() else {
        return &[];
    };
    let interface = (t0 >> 4 & 0x07).count_ones() as usize;
    after_t0.get(interface..).unwrap_or(&[])
}

/// What a poll found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "pos-hal is heap-free, so no Box; one event per card read is moved"
)]
pub enum PollOutcome {
    /// Exactly one card answered and was activated.
    Card(Target),
    /// More than one card is in the field: EMV requires "present one card only", nothing was
    /// activated.
    Collision,
    /// No card came before the timeout.
    Nothing,
}

/// What a contactless reader can do.
///
/// ```
/// use pos_hal::{PiccCaps, TargetTypes};
/// let caps = PiccCaps::new(TargetTypes::AB, 256).with_activation_data(true);
/// assert!(caps.reports_activation_data && !caps.polls_autonomously);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PiccCaps {
    /// RF types it can poll for.
    pub types: TargetTypes,
    /// Longest frame it exchanges with a card (FSD), bytes; longer APDUs are chained or refused.
    pub max_frame: usize,
    /// The reader polls by itself (PC/SC readers): `poll` only watches; otherwise the driver
    /// drives each poll cycle (PN532).
    pub polls_autonomously: bool,
    /// The reader reports ATQA/SAK/ATS/ATQB (PN532 does; PC/SC shows only an ATR).
    pub reports_activation_data: bool,
}

impl Default for PiccCaps {
    /// Type A and B, 256-byte frames, driver-driven polling, no activation data.
    fn default() -> Self {
        Self::new(TargetTypes::AB, 256)
    }
}

impl PiccCaps {
    /// The given RF types and frame size.
    pub const fn new(types: TargetTypes, max_frame: usize) -> Self {
        Self {
            types,
            max_frame,
            polls_autonomously: false,
            reports_activation_data: false,
        }
    }
    /// Whether the reader polls by itself.
    pub const fn with_autonomous_polling(mut self, yes: bool) -> Self {
        self.polls_autonomously = yes;
        self
    }
    /// Whether activation data (ATQA, SAK, ATS, ATQB) is reported.
    pub const fn with_activation_data(mut self, yes: bool) -> Self {
        self.reports_activation_data = yes;
        self
    }
}

/// A contactless reader. `transmit` (from [`CardChannel`]) talks to the activated target.
///
/// ```
/// use core::time::Duration;
/// use pos_hal::{CancelToken, Error, ErrorKind, PiccReader, PollOutcome, TargetTypes};
/// fn tap<R: PiccReader + ?Sized>(reader: &mut R) -> Result<&'static str, ErrorKind> {
///     let cancel = CancelToken::new();
///     match reader.poll(TargetTypes::AB, Duration::from_secs(30), &cancel).map_err(|e| e.kind())? {
///         PollOutcome::Card(_) => Ok("card"),
///         PollOutcome::Collision => Ok("present one card only"),
///         _ => Ok("no card"),
///     }
/// }
/// ```
pub trait PiccReader: CardChannel + Device {
    /// What the reader can do.
    fn caps(&self) -> PiccCaps;
    /// Polls for a target of `types` until one is activated, `timeout` passes
    /// ([`PollOutcome::Nothing`]) or `cancel` fires (error of kind
    /// [`Cancelled`](crate::ErrorKind::Cancelled)). Two cards → [`PollOutcome::Collision`].
    fn poll(
        &mut self,
        types: TargetTypes,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<PollOutcome, Self::Error>;
    /// Waits until the card has left the field (`Ok`), `timeout` passes
    /// ([`Timeout`](crate::ErrorKind::Timeout)) or `cancel` fires.
    fn wait_for_removal(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<(), Self::Error>;
    /// Deactivates the target (RF off or HLTA/DESELECT); the next `poll` starts afresh.
    fn deactivate(&mut self) -> Result<(), Self::Error>;
}

macro_rules! forward_picc {
    ($($ty:ty),*) => {$(
        impl<T: PiccReader + ?Sized> PiccReader for $ty {
            fn caps(&self) -> PiccCaps {
                T::caps(self)
            }
            fn poll(&mut self, types: TargetTypes, timeout: Duration, cancel: &CancelToken) -> Result<PollOutcome, Self::Error> {
                T::poll(self, types, timeout, cancel)
            }
            fn wait_for_removal(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<(), Self::Error> {
                T::wait_for_removal(self, timeout, cancel)
            }
            fn deactivate(&mut self) -> Result<(), Self::Error> {
                T::deactivate(self)
            }
        }
    )*};
}
forward_picc!(&mut T);
#[cfg(feature = "alloc")]
forward_picc!(alloc::boxed::Box<T>);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ats_without_interface_bytes_is_all_historical() {
        assert_eq!(
            ats_historical(&[0x05, 0x08, 0xAA, 0xBB, 0xCC]),
            &[0xAA, 0xBB, 0xCC]
        );
        assert_eq!(ats_historical(&[0x01]), &[] as &[u8]);
        assert_eq!(ats_historical(&[]), &[] as &[u8]);
    }

    proptest! {
        #[test]
        fn ats_parsing_never_panics(ats in proptest::collection::vec(any::<u8>(), 0..300)) {
            let h = ats_historical(&ats);
            prop_assert!(h.len() <= ats.len());
        }
    }
}
