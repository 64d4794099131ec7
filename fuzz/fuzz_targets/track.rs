//! Magstripe track, PAN and amount parsers: never panic; valid tracks round-trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_hal::{Amount, Pan, Track1, Track2, Track3};

fuzz_target!(|data: &[u8]| {
    let _ = Track2::from_equivalent_data(data);
    let _ = Pan::from_bcd(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(t2) = Track2::parse(text) {
            assert_eq!(Track2::parse(t2.reveal()).as_ref(), Ok(&t2));
            let _ = (t2.pan(), t2.expiry(), t2.service_code());
        }
        if let Ok(t1) = Track1::parse(text) {
            assert_eq!(Track1::parse(t1.reveal()).as_ref(), Ok(&t1));
            let _ = (t1.pan(), t1.name(), t1.expiry(), t1.service_code());
        }
        let _ = Track3::parse(text);
        let _ = Pan::parse(text);
        if let Ok(a) = text.parse::<Amount>() {
            assert_eq!(a.to_string().parse::<Amount>(), Ok(a));
        }
    }
});
