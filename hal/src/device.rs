//! Device identity, health checks and the claim/release lifecycle (UnifiedPOS as typestate).

use core::ops::{Deref, DerefMut};

use crate::error::ErrorType;
use crate::fixed::FixedStr;

/// Kinds of POS peripheral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceKind {
    /// Contact card reader.
    ContactReader,
    /// Contactless card reader.
    ContactlessReader,
    /// Reader with both interfaces.
    DualReader,
    /// Magnetic stripe reader.
    Magstripe,
    /// Receipt printer.
    Printer,
    /// PIN pad.
    PinPad,
    /// Display/keypad.
    Operator,
    /// 1D/2D code scanner (customers' payment codes).
    CodeScanner,
}

impl DeviceKind {
    /// Lower-case name used in device lists and JSON (`"contact-reader"`, `"printer"`…).
    pub const fn as_str(self) -> &'static str {
        match self {
            DeviceKind::ContactReader => "contact-reader",
            DeviceKind::ContactlessReader => "contactless-reader",
            DeviceKind::DualReader => "dual-reader",
            DeviceKind::Magstripe => "magstripe",
            DeviceKind::Printer => "printer",
            DeviceKind::PinPad => "pin-pad",
            DeviceKind::Operator => "operator",
            DeviceKind::CodeScanner => "code-scanner",
        }
    }
}

impl core::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a driver found: enough to show in a device list and to open the device again.
///
/// ```
/// use pos_hal::{DeviceInfo, DeviceKind};
/// let info = DeviceInfo::new(DeviceKind::Printer, "escpos", "Receipt printer", "escpos:tcp:127.0.0.1:9100");
/// assert_eq!(info.selector.as_str(), "escpos:tcp:127.0.0.1:9100");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceInfo {
    /// Kind of device.
    pub kind: DeviceKind,
    /// Driver name (`"pcsc"`, `"escpos"`…), the selector's prefix.
    pub driver: &'static str,
    /// Human-readable name (`"ACS ACR1252 1S CL Reader 00 00"`).
    pub name: FixedStr<96>,
    /// Selector string that opens it again through the registry (`"pcsc:Virtual PCD 00 00"`,
    /// `"escpos:tcp:10.0.0.5:9100"`).
    pub selector: FixedStr<128>,
}

impl DeviceInfo {
    /// Describes a device; over-long names and selectors are cut at a character boundary.
    pub fn new(kind: DeviceKind, driver: &'static str, name: &str, selector: &str) -> Self {
        Self {
            kind,
            driver,
            name: FixedStr::truncated(name),
            selector: FixedStr::truncated(selector),
        }
    }
}

/// Depth of a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthLevel {
    /// Talks to the device only (status query).
    Internal,
    /// Exercises it visibly (print a test page, power a card).
    External,
    /// Needs a person (press keys, swipe a card).
    Interactive,
}

/// Outcome of a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthStatus {
    /// Works.
    Ok,
    /// Works with a warning (paper near end).
    Degraded,
    /// Does not work.
    Failed,
}

/// The POS menu's device self-check result.
///
/// ```
/// use pos_hal::{HealthLevel, HealthReport, HealthStatus};
/// let r = HealthReport::new(HealthLevel::Internal, HealthStatus::Failed, "paper out");
/// assert_eq!(r.detail.as_str(), "paper out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthReport {
    /// Level that was run.
    pub level: HealthLevel,
    /// Outcome.
    pub status: HealthStatus,
    /// One line for the operator.
    pub detail: FixedStr<96>,
}

impl HealthReport {
    /// A report; `detail` is cut to 96 bytes at a character boundary.
    pub fn new(level: HealthLevel, status: HealthStatus, detail: &str) -> Self {
        Self {
            level,
            status,
            detail: FixedStr::truncated(detail),
        }
    }
}

/// What every device can do: say what it is and check itself.
///
/// # The health-check contract
/// `health_check` returns `Err` **only when the check could not run at all** (the service is
/// gone, the handle is closed). A device that answers and is broken — paper out, no card where
/// one is needed, a reader that refuses to power a card — is `Ok(report)` with
/// [`HealthStatus::Failed`] or [`HealthStatus::Degraded`] and a one-line cause for the operator.
pub trait Device: ErrorType {
    /// Identifies the device (with the selector that reopens it).
    fn info(&self) -> DeviceInfo;
    /// Checks the device at `level`; see the contract above.
    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, Self::Error>;
}

impl<T: Device + ?Sized> Device for &mut T {
    fn info(&self) -> DeviceInfo {
        T::info(self)
    }
    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, Self::Error> {
        T::health_check(self, level)
    }
}

#[cfg(feature = "alloc")]
impl<T: Device + ?Sized> Device for alloc::boxed::Box<T> {
    fn info(&self) -> DeviceInfo {
        T::info(self)
    }
    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, Self::Error> {
        T::health_check(self, level)
    }
}

/// A device that can be claimed for exclusive use.
///
/// Implement `acquire`/`release`; use [`Claimed::claim`] to get the typestate.
pub trait Claim: ErrorType {
    /// Takes exclusive access (PC/SC exclusive connect, USB claim_interface…).
    fn acquire(&mut self) -> Result<(), Self::Error>;
    /// Gives it back. Must not fail: errors are logged by the driver.
    fn release(&mut self);
}

/// A device held for exclusive use; dropping it releases the device.
///
/// ```
/// use pos_hal::{Claim, Claimed, ErrorKind, ErrorType};
/// #[derive(Default)]
/// struct Dev { claimed: bool }
/// impl ErrorType for Dev { type Error = ErrorKind; }
/// impl Claim for Dev {
///     fn acquire(&mut self) -> Result<(), ErrorKind> {
///         if self.claimed { return Err(ErrorKind::Busy) }
///         self.claimed = true;
///         Ok(())
///     }
///     fn release(&mut self) { self.claimed = false; }
/// }
///
/// let claimed = Claimed::claim(Dev::default()).map_err(|(_, e)| e)?;
/// assert!(claimed.claimed);
/// let dev = claimed.release(); // or just drop it
/// assert!(!dev.claimed);
/// # Ok::<(), ErrorKind>(())
/// ```
#[derive(Debug)]
pub struct Claimed<D: Claim> {
    device: Option<D>,
}

impl<D: Claim> Claimed<D> {
    /// Claims `device`; on failure the device comes back with the error.
    pub fn claim(mut device: D) -> Result<Self, (D, D::Error)> {
        match device.acquire() {
            Ok(()) => Ok(Self {
                device: Some(device),
            }),
            Err(e) => Err((device, e)),
        }
    }

    /// Releases the claim and returns the unclaimed device.
    pub fn release(mut self) -> D {
        let mut device = self
            .device
            .take()
            .expect("Claimed always holds its device until dropped");
        device.release();
        device
    }
}

impl<D: Claim> Deref for Claimed<D> {
    type Target = D;
    fn deref(&self) -> &D {
        self.device
            .as_ref()
            .expect("Claimed always holds its device until dropped")
    }
}

impl<D: Claim> DerefMut for Claimed<D> {
    fn deref_mut(&mut self) -> &mut D {
        self.device
            .as_mut()
            .expect("Claimed always holds its device until dropped")
    }
}

impl<D: Claim> Drop for Claimed<D> {
    fn drop(&mut self) {
        if let Some(device) = self.device.as_mut() {
            device.release();
        }
    }
}
