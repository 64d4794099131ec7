//! Command and response APDU parsers: never panic; parsed commands re-encode and round-trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_hal::{Apdu, Rapdu};

fuzz_target!(|data: &[u8]| {
    if let Ok(apdu) = Apdu::parse(data) {
        let mut buf = vec![0u8; apdu.encoded_len()];
        let n = apdu.encode_into(&mut buf).expect("a parsed APDU encodes");
        assert_eq!(Apdu::parse(&buf[..n]), Ok(apdu));
    }
    if let Ok(r) = Rapdu::parse(data) {
        let _ = (r.sw.bytes_available(), r.sw.exact_length(), r.sw.to_string());
    }
});
