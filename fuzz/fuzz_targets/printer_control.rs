//! The virtual printer's control lines: a command or a typed error; commands round-trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_sim::printer::ControlCommand;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cmd) = text.parse::<ControlCommand>() {
        assert_eq!(cmd.to_string().parse::<ControlCommand>(), Ok(cmd));
    }
});
