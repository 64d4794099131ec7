//! DOL parsing, building and splitting never panic, and a built DOL splits back.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dol) = pos_emv::dol::parse(data) {
        let built = pos_emv::dol::build(&dol, |_| Some(data));
        assert_eq!(pos_emv::dol::split(&dol, &built).map(|v| v.len()).ok(), Some(dol.len()));
    }
});
