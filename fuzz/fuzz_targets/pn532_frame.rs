//! PN532 frames: any bytes decode or give a typed error with a sane skip; decoded
//! information frames re-encode to the same frame.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_pn532::frame::{self, Frame, FrameError};

fuzz_target!(|data: &[u8]| {
    match frame::decode(data) {
        Ok((Frame::Info { tfi, body }, used)) => {
            assert!(used <= data.len());
            let mut out = [0u8; frame::MAX_FRAME];
            if !body.is_empty() {
                let n = frame::encode(tfi, body, &mut out).expect("a decoded body re-encodes");
                assert_eq!(frame::decode(&out[..n]).map(|(f, _)| f), Ok(Frame::Info { tfi, body }));
            }
        }
        Ok((_, used)) => assert!(used <= data.len()),
        Err(FrameError::LengthChecksum { skip } | FrameError::DataChecksum { skip } | FrameError::Length { skip }) => {
            assert!(skip > 0 && skip <= data.len() + 1)
        }
        Err(_) => {}
    }
});
