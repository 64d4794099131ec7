//! `escpos:` — ESC/POS receipt printers.

use pos_escpos::{EscposPrinter, PrinterAddress, Profile};

use crate::{DeviceError, DeviceSelector, Driver, DynPrinter, Erased, Listing, PrinterOptions};

pub(crate) struct EscposDriver;

fn address(selector: &DeviceSelector) -> Result<PrinterAddress, DeviceError> {
    selector.rest().parse().map_err(|_| {
        DeviceError::invalid(
            &selector.to_string(),
            "want escpos:tcp:HOST:PORT, escpos:serial:PATH[:BAUD[:rtscts]], escpos:usb:[VID:PID[:SERIAL]] or escpos:file:PATH",
        )
    })
}

impl Driver for EscposDriver {
    fn name(&self) -> &'static str {
        "escpos"
    }
    fn syntax(&self) -> &'static str {
        "escpos:tcp:HOST:PORT | escpos:serial:PATH[:BAUD[:rtscts]] | escpos:usb:[VID:PID[:SERIAL]] | escpos:file:PATH"
    }
    fn check(&self, selector: &DeviceSelector) -> Result<(), DeviceError> {
        address(selector).map(|_| ())
    }
    fn list(&self) -> Result<Vec<Listing>, DeviceError> {
        Ok(pos_escpos::discover()
            .into_iter()
            .map(|info| Listing::new(info, None))
            .collect())
    }
    fn open_printer(
        &self,
        selector: &DeviceSelector,
        options: &PrinterOptions,
    ) -> Result<DynPrinter, DeviceError> {
        let profile = if options.paper_mm >= 80 {
            Profile::MM80
        } else {
            Profile::MM58
        };
        let printer = EscposPrinter::open_address(&address(selector)?, profile)
            .map_err(|e| DeviceError::driver(selector, e))?;
        Ok(Box::new(Erased(printer)))
    }
}
