//! A PN532 on a pty, speaking the HSU protocol (frames from [`pos_pn532::frame`]): what a
//! PN532 driver — ours, or libnfc's `pn532_uart` — opens as `/dev/pts/N`. It presents the same
//! card model as the vpcd cards ([`Card`]) as ISO 14443-4 type A or B targets, MIFARE
//! Classic UID-only targets, two cards at once (collision) or none; it can remove the card
//! after N exchanges, delay its answers and corrupt checksums on demand.
//!
//! ```no_run
//! use pos_sim::emv::{CardProfile, EmvCard};
//! use pos_sim::pn532::{Pn532Emulator, Presented};
//! let card = EmvCard::new(CardProfile::builtin("unionpay-debit").unwrap());
//! let pn532 = Pn532Emulator::start()?;
//! pn532.insert(Presented::iso_dep_a(card, &[0x04, 0xA1, 0xB2, 0xC3]));
//! println!("PN532 on {}", pn532.path());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use pos_pn532::frame::{self, Frame, PN532_TO_HOST};

use crate::card::Card;

/// How a card shows itself in the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    /// Type A: ATQA, SAK, UID and (for ISO-DEP) the ATS including TL.
    A {
        /// ATQA (SENS_RES).
        atqa: [u8; 2],
        /// SAK (SEL_RES).
        sak: u8,
        /// UID (4, 7 or 10 bytes).
        uid: Vec<u8>,
        /// ATS with its TL byte; empty for a card without ISO-DEP.
        ats: Vec<u8>,
    },
    /// Type B: the 12-byte ATQB (`50` ‖ PUPI ‖ application data ‖ protocol info).
    B {
        /// ATQB.
        atqb: [u8; 12],
    },
}

/// ISO 14443-3 card states: a deselected or released card is halted and answers only after
/// the field is switched off and on (or it leaves and comes back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardState {
    Idle,
    Active,
    Halted,
}

/// A card in the emulator's field.
pub struct Presented {
    card: Box<dyn Card>,
    activation: Activation,
    state: CardState,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("activation", &self.activation)
            .finish_non_exhaustive()
    }
}

impl Presented {
    /// An ISO 14443-4 type A card (ATQA `0004`, SAK `20`, a short ATS).
    pub fn iso_dep_a(card: impl Card, uid: &[u8]) -> Self {
        Self {
            card: Box::new(card),
            activation: Activation::A {
                atqa: [0x00, 0x04],
                sak: 0x20,
                uid: uid.to_vec(),
                ats: vec![0x06, 0x75, 0x77, 0x81, 0x02, 0x80],
            },
            state: CardState::Idle,
        }
    }

    /// An ISO 14443-4 type B card with this PUPI.
    pub fn iso_dep_b(card: impl Card, pupi: [u8; 4]) -> Self {
        let mut atqb = [0x50, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x71, 0x71];
        atqb[1..5].copy_from_slice(&pupi);
        Self {
            card: Box::new(card),
            activation: Activation::B { atqb },
            state: CardState::Idle,
        }
    }

    /// A MIFARE Classic 1K: UID only (SAK `08`), no APDUs.
    pub fn mifare_classic(card: impl Card, uid: [u8; 4]) -> Self {
        Self {
            card: Box::new(card),
            activation: Activation::A {
                atqa: [0x00, 0x04],
                sak: 0x08,
                uid: uid.to_vec(),
                ats: Vec::new(),
            },
            state: CardState::Idle,
        }
    }

    fn is_type_a(&self) -> bool {
        matches!(self.activation, Activation::A { .. })
    }

    fn iso_dep(&self) -> bool {
        match &self.activation {
            Activation::A { sak, .. } => sak & 0x20 != 0,
            Activation::B { .. } => true,
        }
    }
}

#[derive(Default)]
struct Field {
    cards: Vec<Presented>,
    /// Index of the activated card.
    active: Option<usize>,
    remove_after: Option<usize>,
    delay: Duration,
    corrupt: usize,
    /// The next this many InDataExchange answers set NAD (bit 7) in their status byte.
    nad: usize,
    /// Pending MI chunks of the last answer.
    pending: Vec<u8>,
}

struct Shared {
    field: Mutex<Field>,
    stop: AtomicBool,
    exchanges: AtomicUsize,
}

fn lock(shared: &Shared) -> MutexGuard<'_, Field> {
    shared.field.lock().unwrap_or_else(|p| p.into_inner())
}

/// The emulator; stopped when dropped.
pub struct Pn532Emulator {
    path: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    _slave: std::fs::File,
}

impl std::fmt::Debug for Pn532Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pn532Emulator")
            .field("path", &self.path)
            .finish()
    }
}

/// The largest R-APDU part sent in one InDataExchange answer; longer answers go with MI.
const CHUNK: usize = 252;

impl Pn532Emulator {
    /// A PN532 with an empty field on a new pty.
    pub fn start() -> std::io::Result<Self> {
        let (master, slave, path) = crate::pty::open_pty()?;
        let shared = Arc::new(Shared {
            field: Mutex::new(Field::default()),
            stop: AtomicBool::new(false),
            exchanges: AtomicUsize::new(0),
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("pn532-emulator".into())
            .spawn(move || serve(master, &for_thread))?;
        Ok(Self {
            path,
            shared,
            thread: Some(thread),
            _slave: slave,
        })
    }

    /// The pty the driver opens (`/dev/pts/N`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Puts a card in the field (a second one makes a collision).
    pub fn insert(&self, card: Presented) {
        lock(&self.shared).cards.push(card);
    }

    /// Takes every card out of the field.
    pub fn remove(&self) {
        let mut f = lock(&self.shared);
        f.cards.clear();
        f.active = None;
    }

    /// The card leaves the field once this many more exchanges have been answered.
    pub fn remove_after(&self, exchanges: usize) {
        let now = self.exchanges();
        lock(&self.shared).remove_after = Some(now + exchanges);
    }

    /// Every answer comes this much later.
    pub fn delay(&self, delay: Duration) {
        lock(&self.shared).delay = delay;
    }

    /// The next `frames` answers carry a wrong data checksum.
    pub fn corrupt_checksums(&self, frames: usize) {
        lock(&self.shared).corrupt = frames;
    }

    /// The next `answers` InDataExchange answers carry a status byte with NAD (bit 7) set:
    /// what makes libnfc `abort()` the process (a faulty or hostile reader).
    pub fn nad_status(&self, answers: usize) {
        lock(&self.shared).nad = answers;
    }

    /// InDataExchange commands answered so far.
    pub fn exchanges(&self) -> usize {
        self.shared.exchanges.load(Ordering::Acquire)
    }
}

impl Drop for Pn532Emulator {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut master: std::fs::File, shared: &Shared) {
    let mut rx: Vec<u8> = Vec::new();
    let mut buf = [0u8; 1024];
    while !shared.stop.load(Ordering::Acquire) {
        let mut pfd = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, 20) };
        if ready <= 0 || pfd.revents & libc::POLLIN == 0 {
            continue;
        }
        let n = match master.read(&mut buf) {
            Ok(0) | Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Ok(n) => n,
        };
        rx.extend_from_slice(&buf[..n]);
        while let Some(step) = step(&mut rx, shared) {
            match step {
                Step::Answer { reply, delay } => {
                    let _ = master.write_all(&frame::ACK);
                    // The chip is busy for `delay`; a host ACK meanwhile aborts the command
                    // and its answer is never sent (PN532 user manual §6.2.1.3).
                    if !delay.is_zero() && aborted_within(&mut master, delay, &mut rx) {
                        continue;
                    }
                    let _ = master.write_all(&reply);
                }
                Step::Nack => {
                    let _ = master.write_all(&frame::NACK);
                }
            }
        }
    }
}

/// What the chip does with the next frame of the host's stream.
enum Step {
    /// ACK, then (after `delay`) this answer frame.
    Answer { reply: Vec<u8>, delay: Duration },
    /// A frame it could not read: it asks for it again.
    Nack,
}

/// Takes the next frame out of `rx` and says what the chip does with it; `None` when `rx`
/// holds no whole frame (yet). Frames the chip ignores (ACKs, NACKs) are consumed silently.
fn step(rx: &mut Vec<u8>, shared: &Shared) -> Option<Step> {
    loop {
        match frame::decode(rx) {
            Ok((f, used)) => {
                let (reply, delay) = handle(f, shared);
                rx.drain(..used);
                if let Some(reply) = reply {
                    return Some(Step::Answer { reply, delay });
                }
            }
            Err(frame::FrameError::Incomplete) => {
                if rx.len() > 4 * frame::MAX_FRAME {
                    rx.clear();
                }
                return None;
            }
            Err(
                frame::FrameError::LengthChecksum { skip }
                | frame::FrameError::DataChecksum { skip }
                | frame::FrameError::Length { skip },
            ) => {
                rx.drain(..skip.min(rx.len()));
                return Some(Step::Nack);
            }
            Err(frame::FrameError::TooLong) => {
                rx.clear();
                return None;
            }
        }
    }
}

/// The emulated chip without a pty or a thread: the host's bytes in, the chip's bytes out
/// (answer delays are not simulated). For unit tests and fuzzing of the emulator's parser.
///
/// ```
/// use pos_sim::pn532::Pn532Chip;
/// let mut chip = Pn532Chip::new();
/// // GetFirmwareVersion: ACK, then D5 03 32 01 06 07 (PN532 v1.6).
/// let out = chip.feed(&[0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00]);
/// assert!(out.starts_with(&[0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00]));
/// assert!(out.windows(4).any(|w| w == [0xD5, 0x03, 0x32, 0x01]));
/// ```
pub struct Pn532Chip {
    shared: Shared,
    rx: Vec<u8>,
}

impl Default for Pn532Chip {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Pn532Chip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pn532Chip")
            .field("buffered", &self.rx.len())
            .finish()
    }
}

impl Pn532Chip {
    /// A chip with an empty field.
    pub fn new() -> Self {
        Self {
            shared: Shared {
                field: Mutex::new(Field::default()),
                stop: AtomicBool::new(false),
                exchanges: AtomicUsize::new(0),
            },
            rx: Vec::new(),
        }
    }

    /// Puts a card in the field.
    pub fn insert(&mut self, card: Presented) {
        lock(&self.shared).cards.push(card);
    }

    /// Feeds the host's bytes; returns everything the chip sends back (ACKs, answers, NACKs).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.rx.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(step) = step(&mut self.rx, &self.shared) {
            match step {
                Step::Answer { reply, .. } => {
                    out.extend_from_slice(&frame::ACK);
                    out.extend_from_slice(&reply);
                }
                Step::Nack => out.extend_from_slice(&frame::NACK),
            }
        }
        out
    }
}

/// Waits `delay` for the host; true when it sent an ACK (abort) meanwhile. Other bytes are
/// kept for the frame loop.
fn aborted_within(master: &mut std::fs::File, delay: Duration, rx: &mut Vec<u8>) -> bool {
    let end = std::time::Instant::now() + delay;
    let mut buf = [0u8; 256];
    loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut pfd = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, 50) as libc::c_int;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, ms) } > 0
            && pfd.revents & libc::POLLIN != 0
            && let Ok(n) = master.read(&mut buf)
        {
            rx.extend_from_slice(&buf[..n]);
            if let Ok((Frame::Ack, used)) = frame::decode(rx) {
                rx.drain(..used);
                return true;
            }
        }
    }
}

/// The chip's response frame to one host frame (sent after its ACK) and how long the chip
/// takes; `None` for frames that get no answer (a host ACK, NACK).
fn handle(f: Frame<'_>, shared: &Shared) -> (Option<Vec<u8>>, Duration) {
    let body = match f {
        Frame::Info { tfi: 0xD4, body } if !body.is_empty() => body,
        _ => return (None, Duration::ZERO),
    };
    let (code, data) = (body[0], &body[1..]);
    let answer = command(code, data, shared);
    if std::env::var_os("PN532_EMULATOR_LOG").is_some() {
        eprintln!("pn532-emulator: {code:02X} {data:02X?} -> {answer:02X?}");
    }
    let mut field = lock(shared);
    let delay = field.delay;
    let corrupt = field.corrupt > 0;
    if corrupt {
        field.corrupt -= 1;
    }
    drop(field);
    let reply = match answer {
        Some(mut payload) => {
            payload.insert(0, code.wrapping_add(1));
            let mut out = vec![0u8; frame::MAX_FRAME];
            match frame::encode(PN532_TO_HOST, &payload, &mut out) {
                Ok(n) => {
                    out.truncate(n);
                    if corrupt && n >= 2 {
                        out[n - 2] ^= 0x5A;
                    }
                    out
                }
                Err(_) => frame::ERROR.to_vec(),
            }
        }
        None => frame::ERROR.to_vec(),
    };
    (Some(reply), delay)
}

fn target_data(tg: u8, p: &Presented) -> Vec<u8> {
    let mut out = vec![tg];
    match &p.activation {
        Activation::A {
            atqa,
            sak,
            uid,
            ats,
        } => {
            out.extend_from_slice(atqa);
            out.push(*sak);
            out.push(uid.len() as u8);
            out.extend_from_slice(uid);
            out.extend_from_slice(ats);
        }
        Activation::B { atqb } => {
            out.extend_from_slice(atqb);
            out.push(0x01);
            out.push(0x00);
        }
    }
    out
}

/// The response data (after the response code), `None` for the error frame.
fn command(code: u8, data: &[u8], shared: &Shared) -> Option<Vec<u8>> {
    let mut field = lock(shared);
    Some(match code {
        0x00 => data.to_vec(),                // Diagnose: echo
        0x02 => vec![0x32, 0x01, 0x06, 0x07], // GetFirmwareVersion: PN532 v1.6
        0x04 => vec![0x00, 0x01, u8::from(field.active.is_some()), 0x80], // GetGeneralStatus
        0x06 => vec![0x00; data.len() / 2],   // ReadRegister
        0x32 => {
            // RFConfiguration: item 01 is the field; switching it off resets every card.
            if data.first() == Some(&0x01) && data.get(1).is_some_and(|on| on & 0x01 == 0) {
                for c in &mut field.cards {
                    c.state = CardState::Idle;
                }
                field.active = None;
            }
            Vec::new()
        }
        0x08 | 0x12 | 0x14 => Vec::new(), // WriteRegister/SetParameters/SAM
        0x16 => vec![0x00],               // PowerDown
        0x4A => {
            // InListPassiveTarget: MaxTg, BrTy (00 = 106 A, 03 = 106 B).
            let (max, br) = (*data.first()?, *data.get(1)?);
            let want_a = match br {
                0x00 => true,
                0x03 => false,
                _ => return Some(vec![0x00]),
            };
            let found: Vec<usize> = field
                .cards
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_type_a() == want_a && c.state != CardState::Halted)
                .map(|(i, _)| i)
                .take(usize::from(max.clamp(1, 2)))
                .collect();
            let mut out = vec![found.len() as u8];
            for (n, &i) in found.iter().enumerate() {
                out.extend(target_data(n as u8 + 1, &field.cards[i]));
                field.cards[i].card.reset();
                field.cards[i].state = CardState::Active;
            }
            field.active = match found.as_slice() {
                [one] => Some(*one),
                _ => None,
            };
            field.pending.clear();
            out
        }
        0x40 => {
            // InDataExchange: Tg, data. Status 01 when the card is gone.
            let Some(i) = field.active.filter(|i| *i < field.cards.len()) else {
                return Some(vec![0x01]);
            };
            let n = shared.exchanges.fetch_add(1, Ordering::AcqRel) + 1;
            if field.nad > 0 {
                field.nad -= 1;
                return Some(vec![0x80, 0x90, 0x00]);
            }
            if field.remove_after.is_some_and(|limit| n > limit) {
                field.cards.clear();
                field.active = None;
                field.remove_after = None;
                return Some(vec![0x01]);
            }
            if !field.cards[i].iso_dep() {
                return Some(vec![0x14]); // MIFARE: "authentication error" for an APDU
            }
            if data.len() <= 1 && !field.pending.is_empty() {
                let take = field.pending.len().min(CHUNK);
                let chunk: Vec<u8> = field.pending.drain(..take).collect();
                let mi = if field.pending.is_empty() { 0x00 } else { 0x40 };
                let mut out = vec![mi];
                out.extend(chunk);
                return Some(out);
            }
            let answer = field.cards[i].card.transmit(data.get(1..).unwrap_or(&[]));
            if answer.len() > CHUNK {
                field.pending = answer[CHUNK..].to_vec();
                let mut out = vec![0x40];
                out.extend_from_slice(&answer[..CHUNK]);
                out
            } else {
                let mut out = vec![0x00];
                out.extend(answer);
                out
            }
        }
        0x42 => {
            // InCommunicateThru: an R(NAK) presence check gets R(ACK); anything else times out.
            if field.active.is_some_and(|i| i < field.cards.len()) && data == [0xB2] {
                vec![0x00, 0xA2]
            } else {
                vec![0x01]
            }
        }
        0x44 | 0x52 => {
            // InDeselect / InRelease: the activated cards are halted.
            for c in &mut field.cards {
                if c.state == CardState::Active {
                    c.state = CardState::Halted;
                }
            }
            field.active = None;
            vec![0x00]
        }
        0x60 => {
            // InAutoPoll: the first card, as type 0x10 (106 A) or 0x23 (106 B).
            match field.cards.first() {
                Some(p) => {
                    let kind = if p.is_type_a() { 0x10 } else { 0x23 };
                    let t = target_data(1, p);
                    let mut out = vec![0x01, kind, t.len() as u8];
                    out.extend(t);
                    field.active = Some(0);
                    out
                }
                None => vec![0x00],
            }
        }
        _ => return None,
    })
}
