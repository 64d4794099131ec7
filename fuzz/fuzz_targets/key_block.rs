//! The sign-in field 62 key block parser: any bytes under any layout give keys or a typed
//! error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_terminal::crypto::{KeyBlockLayout, SecretKey, parse_key_block};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, block)) = data.split_first() else {
        return;
    };
    let Ok(tmk) = SecretKey::tdes(&[0x70, 0xF2, 0xA8, 0x4C, 0xCB, 0xC2, 0xAE, 0x86, 0x25, 0xCB, 0xB0, 0xF2, 0xC2, 0x2A, 0xB9, 0x23]) else {
        return;
    };
    let layout = KeyBlockLayout::default()
        .with_mak_cv_offset(usize::from(flags & 0x3F))
        .with_double_length_mak(flags & 0x40 != 0);
    let _ = parse_key_block(block, &tmk, &layout);
    if let Ok(sm4_tmk) = SecretKey::sm4(&[0x11; 16]) {
        let _ = parse_key_block(block, &sm4_tmk, &layout.with_sm4(true));
    }
});
