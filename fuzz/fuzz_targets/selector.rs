//! Device selectors and printer addresses: never panic; whatever parses prints back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_devices::DeviceSelector;
use pos_escpos::PrinterAddress;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = text.parse::<DeviceSelector>() {
        assert_eq!(s.to_string().parse::<DeviceSelector>().ok(), Some(s.clone()));
        let _ = pos_devices::parse(text);
    }
    if let Ok(a) = text.parse::<PrinterAddress>() {
        let again: PrinterAddress = a.to_string().parse().expect("printed address parses");
        assert_eq!(again, a);
    }
});
