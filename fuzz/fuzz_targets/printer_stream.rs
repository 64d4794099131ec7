//! The virtual printer's ESC/POS parser: any byte stream, never a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = pos_sim::printer::parse_stream(data);
    for job in &parsed.jobs {
        let _ = job.transcript();
    }
});
