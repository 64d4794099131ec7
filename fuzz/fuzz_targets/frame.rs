//! Length-prefixed frames (host link, host-sim, vpcd) and ATS activation data: typed errors,
//! never a panic or an allocation beyond the limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_hal::{CardProtocol, RfType, Target, Uid};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Ok(Some(frame)) = pos_io::frame::read(&mut input, 4096) {
        assert!(frame.len() <= 4096);
    }
    let target = Target::new(RfType::A, CardProtocol::IsoDep, Uid::EMPTY);
    if let Ok(t) = target.with_ats(data) {
        assert!(t.historical.len() <= data.len());
    }
    let _ = target.with_atqb(data);
});
