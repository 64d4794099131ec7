//! ESC/POS DLE EOT status decoding: never panics; accepts exactly the bytes with the fixed bits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_escpos::status::{decode, is_status_byte};

fuzz_target!(|data: [u8; 3]| {
    let ok = data.iter().all(|b| is_status_byte(*b));
    assert_eq!(decode(data[0], data[1], data[2]).is_ok(), ok);
});
