//! CUP ISO 8583 unpack (both dialects: 8-byte and SM4 16-byte PIN block) and deframe, and the field readers (balance): never panic; whatever unpacks packs back byte for byte.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_terminal::iso8583::spec::Dialect;
use pos_terminal::iso8583::{Frame, Message};

fuzz_target!(|data: &[u8]| {
    for dialect in [Dialect::Cup, Dialect::CupSm4] {
        if let Ok(m) = Message::unpack_in(data, dialect) {
            assert_eq!(m.pack().expect("repack"), data);
            for n in m.numbers().collect::<Vec<_>>() {
                let _ = m.text(n);
            }
            let _ = (m.amount(), m.pan(), m.stan(), m.batch_number());
            let _ = pos_terminal::requests::available_balance(&m);
        }
    }
    let _ = Frame::decode(data);
});
