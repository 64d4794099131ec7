//! `pcsc:` — readers through pcscd.

use pos_pcsc::{PcscReader, ReaderSelector, readers};

use crate::{DeviceError, DeviceSelector, Driver, DynIccReader, DynPiccReader, Erased, Listing};

pub(crate) struct PcscDriver;

fn reader_selector(selector: &DeviceSelector) -> Result<ReaderSelector, DeviceError> {
    let rest = selector.rest();
    match rest.strip_prefix('~') {
        Some("") => Err(DeviceError::invalid(
            &selector.to_string(),
            "empty name part after '~'",
        )),
        Some(part) => Ok(ReaderSelector::Contains(part.to_string())),
        None if rest.is_empty() => Err(DeviceError::invalid(
            &selector.to_string(),
            "want pcsc:<reader name> or pcsc:~<part of the name>",
        )),
        None => Ok(ReaderSelector::Exact(rest.to_string())),
    }
}

fn open(selector: &DeviceSelector) -> Result<PcscReader, DeviceError> {
    PcscReader::open(&reader_selector(selector)?).map_err(|e| DeviceError::driver(selector, e))
}

impl Driver for PcscDriver {
    fn name(&self) -> &'static str {
        "pcsc"
    }
    fn syntax(&self) -> &'static str {
        "pcsc:<exact reader name> | pcsc:~<part of the name>"
    }
    fn check(&self, selector: &DeviceSelector) -> Result<(), DeviceError> {
        reader_selector(selector).map(|_| ())
    }
    fn list(&self) -> Result<Vec<Listing>, DeviceError> {
        let found = readers().map_err(|e| DeviceError::driver("pcsc", e))?;
        Ok(found
            .into_iter()
            .map(|r| {
                let info = pos_hal::DeviceInfo::new(
                    pos_hal::DeviceKind::ContactReader,
                    "pcsc",
                    &r.name,
                    &format!("pcsc:{}", r.name),
                );
                Listing::new(info, Some(r.state.to_string()))
            })
            .collect())
    }
    fn open_icc(&self, selector: &DeviceSelector) -> Result<DynIccReader, DeviceError> {
        Ok(Box::new(Erased(open(selector)?)))
    }
    fn open_picc(&self, selector: &DeviceSelector) -> Result<DynPiccReader, DeviceError> {
        Ok(Box::new(Erased(open(selector)?)))
    }
}
