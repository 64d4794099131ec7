//! The acquirer simulator's request handler: any request gets an answer, no answer, or a typed
//! error; never a panic, and the in-memory ledger stays usable.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_sim::acquirer::OfflineHost;

fuzz_target!(|data: &[u8]| {
    let Ok(mut host) = OfflineHost::demo() else {
        return;
    };
    let _ = host.answer(data);
    let _ = host.answer(data);
});
