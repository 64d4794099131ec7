//! A software PIN pad over the HAL's PIN pad port: the PIN typed on the terminal's own keys
//! (the runner's `pin` lines, the TUI's digits) becomes an online PIN block under the key
//! store's PIN key, or the VERIFY data of an offline PIN — enciphered for the card with
//! padding from the OS's random source. A bench or demo stands in for a secure PIN pad with
//! it; a real PED implements [`PinPad`] itself and the flows do not change.

use pos_hal::{
    CancelToken, Device, DeviceInfo, DeviceKind, ErrorKind, ErrorType, HealthLevel, HealthReport,
    HealthStatus, KeyStore, OfflinePinEntry, OfflinePinRequest, PinDigits, PinEntry, PinPad,
    PinRequest,
};

/// One PIN, typed: what [`PinPad::get_pin`] or [`PinPad::get_offline_pin`] gives for it.
#[derive(Debug)]
pub struct SoftPinPad<'k, 'p, K: KeyStore + ?Sized> {
    keys: &'k mut K,
    typed: Option<&'p PinDigits>,
}

impl<'k, 'p, K: KeyStore + ?Sized> SoftPinPad<'k, 'p, K> {
    /// The PIN `typed` (`None`: Enter with no digits, a bypass), online blocks under `keys`.
    pub fn typed(keys: &'k mut K, typed: Option<&'p PinDigits>) -> Self {
        Self { keys, typed }
    }

    fn digits(&self, min_len: u8, max_len: u8) -> Result<Option<&[u8]>, ErrorKind> {
        let Some(pin) = self.typed else {
            return if min_len == 0 {
                Ok(None)
            } else {
                Err(ErrorKind::InvalidInput)
            };
        };
        let digits = pin.expose_secret().as_bytes();
        let len = u8::try_from(digits.len()).unwrap_or(u8::MAX);
        if len < min_len.max(1) || len > max_len || !digits.iter().all(u8::is_ascii_digit) {
            return Err(ErrorKind::InvalidInput);
        }
        Ok(Some(digits))
    }
}

impl<K: KeyStore + ?Sized> ErrorType for SoftPinPad<'_, '_, K> {
    type Error = ErrorKind;
}

impl<K: KeyStore + ?Sized> Device for SoftPinPad<'_, '_, K> {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            DeviceKind::PinPad,
            "soft-pinpad",
            "software PIN pad (the terminal's keys)",
            "soft",
        )
    }

    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, ErrorKind> {
        Ok(HealthReport::new(level, HealthStatus::Ok, "software"))
    }
}

impl<K: KeyStore + ?Sized> PinPad for SoftPinPad<'_, '_, K> {
    fn get_pin(
        &mut self,
        request: &PinRequest<'_>,
        cancel: &CancelToken,
    ) -> Result<PinEntry, ErrorKind> {
        if cancel.is_cancelled() {
            return Err(ErrorKind::Cancelled);
        }
        if self.digits(request.min_len, request.max_len)?.is_none() {
            return Ok(PinEntry::Bypassed);
        }
        let Some(pin) = self.typed else {
            return Ok(PinEntry::Bypassed);
        };
        self.keys
            .encrypt_pin_block(request.key_slot, request.pan, pin, request.format)
            .map(PinEntry::Entered)
            .map_err(|e| pos_hal::Error::kind(&e))
    }

    fn get_offline_pin(
        &mut self,
        request: &OfflinePinRequest<'_>,
        cancel: &CancelToken,
    ) -> Result<OfflinePinEntry, ErrorKind> {
        if cancel.is_cancelled() {
            return Err(ErrorKind::Cancelled);
        }
        let Some(digits) = self.digits(request.min_len, request.max_len)? else {
            return Ok(OfflinePinEntry::Bypassed);
        };
        let random: [u8; 32] = pos_platform::random().map_err(|_| ErrorKind::Other)?;
        pos_emv::pin::offline_pin_data(digits, request.encipher, &random)
            .map(OfflinePinEntry::Entered)
            .map_err(|_| ErrorKind::InvalidInput)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_hal::{InlineBytes, KeySlot, Pan, Secret};
    use pos_terminal::crypto::{SecretKey, SoftwareKeyStore};

    fn pin(text: &str) -> PinDigits {
        Secret::new(InlineBytes::new(text.as_bytes()).expect("fits"))
    }

    #[test]
    fn online_blocks_come_from_the_key_store_and_offline_data_from_the_digits() {
        let mut keys = SoftwareKeyStore::default();
        keys.install(KeySlot::Pin, SecretKey::tdes(&[0x44; 16]).expect("key"))
            .expect("slot");
        let pan = Pan::parse("6212345678901232").expect("pan");
        let cancel = CancelToken::new();
        let (right, short) = (pin("123456"), pin("12"));
        let mut pad = SoftPinPad::typed(&mut keys, Some(&right));
        assert!(matches!(
            pad.get_pin(&PinRequest::online(&pan), &cancel),
            Ok(PinEntry::Entered(_))
        ));
        let Ok(OfflinePinEntry::Entered(data)) =
            pad.get_offline_pin(&OfflinePinRequest::plaintext(), &cancel)
        else {
            panic!("a plaintext block");
        };
        assert_eq!(
            data.reveal(),
            [0x26, 0x12, 0x34, 0x56, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        let mut short = SoftPinPad::typed(&mut keys, Some(&short));
        assert_eq!(
            short
                .get_offline_pin(&OfflinePinRequest::plaintext(), &cancel)
                .err(),
            Some(ErrorKind::InvalidInput)
        );
        let mut none = SoftPinPad::typed(&mut keys, None);
        let bypass = OfflinePinRequest::plaintext().with_lengths(0, 12);
        assert_eq!(
            none.get_offline_pin(&bypass, &cancel),
            Ok(OfflinePinEntry::Bypassed)
        );
        cancel.cancel();
        assert_eq!(
            none.get_offline_pin(&bypass, &cancel).err(),
            Some(ErrorKind::Cancelled)
        );
    }
}
