//! `nfc:` — readers through libnfc by connection string (`nfc:pn532_uart:/dev/ttyUSB0`,
//! `nfc:acr122_usb`).

use crate::{DeviceError, DeviceSelector, Driver, DynPiccReader, Erased, Listing};

pub(crate) struct NfcDriver;

impl Driver for NfcDriver {
    fn name(&self) -> &'static str {
        "nfc"
    }
    fn syntax(&self) -> &'static str {
        "nfc:<libnfc connection string, e.g. pn532_uart:/dev/ttyUSB0>"
    }
    fn check(&self, selector: &DeviceSelector) -> Result<(), DeviceError> {
        if selector.rest().is_empty() {
            return Err(DeviceError::invalid(
                &selector.to_string(),
                "want nfc:<libnfc connection string>",
            ));
        }
        Ok(())
    }
    /// What libnfc's configuration names (libnfc.conf, LIBNFC_DEVICE); serial readers are
    /// never scanned.
    fn list(&self) -> Result<Vec<Listing>, DeviceError> {
        let found = pos_nfc::NfcReader::list().map_err(|e| DeviceError::driver("nfc", e))?;
        Ok(found
            .into_iter()
            .map(|c| {
                let info = pos_hal::DeviceInfo::new(
                    pos_hal::DeviceKind::ContactlessReader,
                    "nfc",
                    &c,
                    &format!("nfc:{c}"),
                );
                Listing::new(info, None)
            })
            .collect())
    }
    fn open_picc(&self, selector: &DeviceSelector) -> Result<DynPiccReader, DeviceError> {
        self.check(selector)?;
        let reader = pos_nfc::NfcReader::open(selector.rest())
            .map_err(|e| DeviceError::driver(selector, e))?;
        Ok(Box::new(Erased(reader)))
    }
}
