//! ATR parser: never panics; whatever parses re-parses to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_hal::Atr;

fuzz_target!(|data: &[u8]| {
    if let Ok(atr) = Atr::parse(data) {
        assert_eq!(atr.as_bytes(), data);
        assert_eq!(Atr::parse(atr.as_bytes()), Ok(atr));
        let _ = (atr.protocols(), atr.historical_bytes(), atr.tck(), atr.to_string());
    }
});
