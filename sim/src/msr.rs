//! A serial magstripe reader on a pty: what a serial MSR driver opens as `/dev/pts/N`. Each
//! swipe is written as the reader would send it — `STX text ETX LRC` or text and CR — all at
//! once or trickling a byte at a time.
//!
//! ```no_run
//! use pos_sim::msr::{Framing, MsrEmulator, SwipeCard};
//! let msr = MsrEmulator::start()?;
//! msr.swipe(&SwipeCard::builtin("unionpay-debit").unwrap(), Framing::StxEtx)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// How the reader frames a swipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `STX` text `ETX` LRC.
    StxEtx,
    /// Text then carriage return.
    Cr,
}

/// What a card's stripe gives (the text a reader sends, sentinels included). Test data only.
#[derive(Clone, PartialEq, Eq)]
pub struct SwipeCard {
    text: String,
}

impl std::fmt::Debug for SwipeCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SwipeCard(<{} bytes of track text>)", self.text.len())
    }
}

impl SwipeCard {
    /// Any text.
    pub fn text(text: &str) -> Self {
        Self { text: text.into() }
    }

    /// The built-in stripes: `unionpay-debit` (tracks 1 and 2, stripe only), `chip-card`
    /// (service code 201), `misread-track1` (track 1 unreadable, track 2 good), `garbage`.
    pub fn builtin(name: &str) -> Option<Self> {
        let text = match name {
            "unionpay-debit" => {
                "%B6212345678901232^ZHANG/SAN^30121010000000000000?;6212345678901232=30121011234567890?"
            }
            "chip-card" => {
                "%B6212345678901232^ZHANG/SAN^30122010000000000000?;6212345678901232=30122011234567890?"
            }
            "misread-track1" => "%E?;6212345678901232=30121011234567890?",
            "garbage" => "\u{7f}#!@x",
            _ => return None,
        };
        Some(Self::text(text))
    }
}

/// The emulator.
pub struct MsrEmulator {
    path: String,
    master: Mutex<std::fs::File>,
    _slave: std::fs::File,
}

impl std::fmt::Debug for MsrEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsrEmulator")
            .field("path", &self.path)
            .finish()
    }
}

impl MsrEmulator {
    /// A reader on a new pty.
    pub fn start() -> std::io::Result<Self> {
        let (master, slave, path) = crate::pty::open_pty()?;
        Ok(Self {
            path,
            master: Mutex::new(master),
            _slave: slave,
        })
    }

    /// The pty the driver opens.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn bytes(card: &SwipeCard, framing: Framing) -> Vec<u8> {
        match framing {
            Framing::StxEtx => {
                let mut out = vec![0x02];
                out.extend_from_slice(card.text.as_bytes());
                out.push(0x03);
                let lrc = out[1..].iter().fold(0u8, |a, b| a ^ b);
                out.push(lrc);
                out
            }
            Framing::Cr => {
                let mut out = card.text.as_bytes().to_vec();
                out.push(b'\r');
                out
            }
        }
    }

    /// Swipes `card` at once.
    pub fn swipe(&self, card: &SwipeCard, framing: Framing) -> std::io::Result<()> {
        let mut m = self.master.lock().unwrap_or_else(|p| p.into_inner());
        m.write_all(&Self::bytes(card, framing))
    }

    /// Swipes `card` a byte at a time, `gap` apart (a slow reader or a slow line).
    pub fn trickle(
        &self,
        card: &SwipeCard,
        framing: Framing,
        gap: Duration,
    ) -> std::io::Result<()> {
        for b in Self::bytes(card, framing) {
            self.master
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .write_all(&[b])?;
            std::thread::sleep(gap);
        }
        Ok(())
    }
}
