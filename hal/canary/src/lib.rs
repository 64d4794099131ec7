//! The no_std canary: firmware-shaped code over the HAL and the terminal core, no std anywhere.
#![no_std]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use pos_hal::{Amount, Apdu, CardChannel, Error, ErrorKind, StatusWord};

/// A bump allocator over a static arena: enough for the canary, never frees.
struct Arena;

const ARENA_SIZE: usize = 64 * 1024;
static mut ARENA: [u8; ARENA_SIZE] = [0; ARENA_SIZE];
static NEXT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut start = 0;
        let claimed = NEXT.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |next| {
            start = next.next_multiple_of(layout.align());
            start.checked_add(layout.size()).filter(|end| *end <= ARENA_SIZE)
        });
        match claimed {
            // SAFETY: [start, start + size) lies inside the arena and is handed out once.
            Ok(_) => unsafe { (&raw mut ARENA).cast::<u8>().add(start) },
            Err(_) => core::ptr::null_mut(),
        }
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Arena = Arena;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Selects the PPSE over any card channel, with a stack buffer only.
pub fn select_ppse<C: CardChannel>(card: &mut C) -> Result<usize, ErrorKind> {
    let mut buf = [0u8; 258];
    let select = Apdu::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(b"2PAY.SYS.DDF01")
        .with_le(256);
    let rsp = card.transmit(&select, &mut buf).map_err(|e| e.kind())?;
    match rsp.sw {
        StatusWord::OK => Ok(rsp.data.len()),
        _ => Err(ErrorKind::Protocol),
    }
}

/// Amount entry as on the POS keypad (digits typed left to right), in minor units.
#[unsafe(no_mangle)]
pub extern "C" fn pos_canary_amount_minor(digits: u32) -> u64 {
    let mut amount = Amount::ZERO;
    let mut d = digits;
    while d > 0 {
        amount = match amount.push_digit((d % 10) as u8) {
            Ok(a) => a,
            Err(_) => return 0,
        };
        d /= 10;
    }
    amount.minor()
}

/// Uses the terminal core's heap-using parts so that they are linked.
#[unsafe(no_mangle)]
pub extern "C" fn pos_canary_kcv_len() -> usize {
    match pos_terminal::crypto::SecretKey::tdes(&[0x11; 16]) {
        Ok(key) => pos_terminal::crypto::kcv(&key).map(|k| k.len()).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Links the EMV kernel: candidate selection over any card channel.
pub fn emv_candidates<C: CardChannel>(card: &mut C) -> usize {
    let terminal = pos_emv::TerminalConfig::china_pos();
    pos_emv::candidates(card, &terminal).map_or(0, |(list, _)| list.len())
}

/// Links the PN532 frame codec: a GetFirmwareVersion frame.
#[unsafe(no_mangle)]
pub extern "C" fn pos_canary_pn532_frame_len() -> usize {
    let mut out = [0u8; pos_pn532::frame::MAX_FRAME];
    pos_pn532::frame::encode(pos_pn532::frame::HOST_TO_PN532, &[0x02], &mut out).unwrap_or(0)
}
