//! The operator's display and keypad.

use core::time::Duration;

use crate::amount::Amount;
use crate::cancel::CancelToken;
use crate::error::ErrorType;

/// Keys of a POS keypad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Key {
    /// 0–9.
    Digit(u8),
    /// Enter / OK (green).
    Enter,
    /// Cancel (red).
    Cancel,
    /// Clear / backspace (yellow).
    Clear,
    /// Function key F1..
    F(u8),
    /// Menu navigation up.
    Up,
    /// Menu navigation down.
    Down,
    /// `.` / `*` key.
    Dot,
    /// Alpha / `#` key.
    Alpha,
}

/// Display geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DisplayCaps {
    /// Text rows.
    pub rows: u8,
    /// Text columns.
    pub columns: u8,
    /// Can show a QR code.
    pub qr: bool,
}

/// The terminal's screen.
///
/// *Provisional*: no real device implements it yet; it is frozen once two do (embedded-hal's
/// rule).
pub trait Display: ErrorType {
    /// Geometry.
    fn caps(&self) -> DisplayCaps;
    /// Clears the screen.
    fn clear(&mut self) -> Result<(), Self::Error>;
    /// Shows text lines from the top; lines beyond `rows` are dropped.
    fn show_lines(&mut self, lines: &[&str]) -> Result<(), Self::Error>;
    /// Shows a prompt and an amount in large digits (amount entry).
    fn show_amount(&mut self, prompt: &str, amount: Amount) -> Result<(), Self::Error>;
    /// Shows a menu with the `selected` item highlighted.
    fn show_menu(
        &mut self,
        title: &str,
        items: &[&str],
        selected: usize,
    ) -> Result<(), Self::Error>;
    /// Shows a QR code (scan-code payment).
    fn show_qr(&mut self, caption: &str, data: &str) -> Result<(), Self::Error>;
}

/// The terminal's keypad.
///
/// *Provisional*: no real device implements it yet; it is frozen once two do (embedded-hal's
/// rule).
pub trait Keypad: ErrorType {
    /// Waits for one key press.
    fn read_key(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<Key, Self::Error>;
}

impl DisplayCaps {
    /// `rows` × `columns` of text, with or without QR codes.
    pub const fn new(rows: u8, columns: u8, qr: bool) -> Self {
        Self { rows, columns, qr }
    }
}

macro_rules! forward_operator {
    ($($ty:ty),*) => {$(
        impl<T: Display + ?Sized> Display for $ty {
            fn caps(&self) -> DisplayCaps {
                T::caps(self)
            }
            fn clear(&mut self) -> Result<(), Self::Error> {
                T::clear(self)
            }
            fn show_lines(&mut self, lines: &[&str]) -> Result<(), Self::Error> {
                T::show_lines(self, lines)
            }
            fn show_amount(&mut self, prompt: &str, amount: Amount) -> Result<(), Self::Error> {
                T::show_amount(self, prompt, amount)
            }
            fn show_menu(&mut self, title: &str, items: &[&str], selected: usize) -> Result<(), Self::Error> {
                T::show_menu(self, title, items, selected)
            }
            fn show_qr(&mut self, caption: &str, data: &str) -> Result<(), Self::Error> {
                T::show_qr(self, caption, data)
            }
        }
        impl<T: Keypad + ?Sized> Keypad for $ty {
            fn read_key(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<Key, Self::Error> {
                T::read_key(self, timeout, cancel)
            }
        }
    )*};
}
forward_operator!(&mut T);
#[cfg(feature = "alloc")]
forward_operator!(alloc::boxed::Box<T>);
