//! Erasing a driver's error type so that devices of any driver share one trait object type.

use std::time::Duration;

use pos_hal::{
    Apdu, Atr, CancelToken, CardChannel, CodeScanner, Device, DeviceInfo, ErrorType, HealthLevel,
    HealthReport, IccCaps, IccReader, JobResult, MagstripeReader, MsrCaps, PiccCaps, PiccReader,
    PollOutcome, PrinterCaps, PrinterStatus, Rapdu, Receipt, ReceiptPrinter, ScannedCode, Swipe,
    TargetTypes,
};

use crate::DynError;

/// A contact reader of any driver.
pub type DynIccReader = Box<dyn IccReader<Error = DynError> + Send>;
/// A contactless reader of any driver.
pub type DynPiccReader = Box<dyn PiccReader<Error = DynError> + Send>;
/// A receipt printer of any driver.
pub type DynPrinter = Box<dyn ReceiptPrinter<Error = DynError> + Send>;
/// A magstripe reader of any driver.
pub type DynMagstripeReader = Box<dyn MagstripeReader<Error = DynError> + Send>;
/// A code scanner of any driver.
pub type DynCodeScanner = Box<dyn CodeScanner<Error = DynError> + Send>;

/// A device whose errors come out as [`DynError`]s.
#[derive(Debug)]
pub struct Erased<D>(pub D);

/// What a driver error needs to be erased.
pub trait DriverError: pos_hal::Error + std::error::Error + Send + Sync + 'static {}
impl<E: pos_hal::Error + std::error::Error + Send + Sync + 'static> DriverError for E {}

fn erase<T, E: DriverError>(r: Result<T, E>) -> Result<T, DynError> {
    r.map_err(DynError::from_driver)
}

impl<D: ErrorType> ErrorType for Erased<D> {
    type Error = DynError;
}

impl<D: Device> Device for Erased<D>
where
    D::Error: DriverError,
{
    fn info(&self) -> DeviceInfo {
        self.0.info()
    }
    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, DynError> {
        erase(self.0.health_check(level))
    }
}

impl<D: CardChannel> CardChannel for Erased<D>
where
    D::Error: DriverError,
{
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, DynError> {
        erase(self.0.transmit(command, response))
    }
}

impl<D: IccReader> IccReader for Erased<D>
where
    D::Error: DriverError,
{
    fn caps(&self) -> IccCaps {
        self.0.caps()
    }
    fn card_present(&mut self) -> Result<bool, DynError> {
        erase(self.0.card_present())
    }
    fn wait_for_card(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<(), DynError> {
        erase(self.0.wait_for_card(timeout, cancel))
    }
    fn power_on(&mut self) -> Result<Atr, DynError> {
        erase(self.0.power_on())
    }
    fn power_off(&mut self) -> Result<(), DynError> {
        erase(self.0.power_off())
    }
}

impl<D: PiccReader> PiccReader for Erased<D>
where
    D::Error: DriverError,
{
    fn caps(&self) -> PiccCaps {
        self.0.caps()
    }
    fn poll(
        &mut self,
        types: TargetTypes,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<PollOutcome, DynError> {
        erase(self.0.poll(types, timeout, cancel))
    }
    fn wait_for_removal(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<(), DynError> {
        erase(self.0.wait_for_removal(timeout, cancel))
    }
    fn deactivate(&mut self) -> Result<(), DynError> {
        erase(self.0.deactivate())
    }
}

impl<D: ReceiptPrinter> ReceiptPrinter for Erased<D>
where
    D::Error: DriverError,
{
    fn caps(&self) -> PrinterCaps {
        self.0.caps()
    }
    fn status(&mut self, cancel: &CancelToken) -> Result<PrinterStatus, DynError> {
        erase(self.0.status(cancel))
    }
    fn print(
        &mut self,
        receipt: &Receipt<'_>,
        cancel: &CancelToken,
    ) -> Result<JobResult, DynError> {
        erase(self.0.print(receipt, cancel))
    }
    fn open_drawer(&mut self) -> Result<(), DynError> {
        erase(self.0.open_drawer())
    }
}

impl<D: MagstripeReader> MagstripeReader for Erased<D>
where
    D::Error: DriverError,
{
    fn caps(&self) -> MsrCaps {
        self.0.caps()
    }
    fn read_swipe(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<Swipe, DynError> {
        erase(self.0.read_swipe(timeout, cancel))
    }
}

impl<D: CodeScanner> CodeScanner for Erased<D>
where
    D::Error: DriverError,
{
    fn read_code(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<ScannedCode, DynError> {
        erase(self.0.read_code(timeout, cancel))
    }
}
