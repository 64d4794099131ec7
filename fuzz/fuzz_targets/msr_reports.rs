//! Magstripe swipe text and reader reports (MagTek, IDTech, keyboard wedge): any bytes give a
//! swipe or a typed error, never a panic, and never more than the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = pos_msr::text::swipe(text);
    }
    let _ = pos_msr::reports::magtek_decode(data);
    let _ = pos_msr::reports::idtech_decode(data);
    let mut wedge = pos_msr::reports::WedgeDecoder::new();
    for chunk in data.chunks(8) {
        let _ = wedge.feed(chunk);
    }
});
