//! BER-TLV parser: never panics, never loops forever, values stay inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_hal::tlv::{TlvIter, find, validate};

fuzz_target!(|data: &[u8]| {
    let _ = validate(data);
    let _ = find(data, 0x5A);
    let _ = find(data, 0x9F36);
    for item in TlvIter::new(data) {
        match item {
            Ok(t) => assert!(t.value.len() <= data.len()),
            Err(_) => break,
        }
    }
});
