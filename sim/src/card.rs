//! The card model every card transport presents: vpcd (contact and contactless through
//! pcscd) today, the PN532 emulator next. A card profile is written once against this trait.

/// What a virtual card does; the transport (vpcd client, PN532 emulator) calls it from its own
/// thread.
pub trait Card: Send + 'static {
    /// The ATR sent on every `04` poll.
    fn atr(&self) -> Vec<u8>;
    /// Power off, on or reset: forget volatile state (selected application, pending data).
    fn reset(&mut self);
    /// Answers one C-APDU with data + SW1 SW2. Must answer everything, never hang.
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8>;
}
