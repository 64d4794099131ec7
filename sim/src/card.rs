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

/// A virtual card held directly by the caller: a [`pos_hal::CardChannel`] without any reader
/// stack, for kernel unit tests and benchmarks (the stack tests go through vpcd and pcscd).
/// It can be pulled after a number of commands, as a cardholder does.
#[derive(Debug)]
pub struct InHand<C: Card> {
    card: C,
    pull_after: Option<usize>,
    sent: usize,
    /// INS byte of every command sent, in order.
    pub commands: Vec<u8>,
    /// Every command sent, encoded, in order (what a reader trace would show).
    pub trace: Vec<Vec<u8>>,
}

/// The card left the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardPulled;

impl core::fmt::Display for CardPulled {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("card removed")
    }
}

impl std::error::Error for CardPulled {}

impl pos_hal::Error for CardPulled {
    fn kind(&self) -> pos_hal::ErrorKind {
        pos_hal::ErrorKind::CardRemoved
    }
}

impl<C: Card> InHand<C> {
    /// The card, powered on.
    pub fn new(mut card: C) -> Self {
        card.reset();
        Self {
            card,
            pull_after: None,
            sent: 0,
            commands: Vec::new(),
            trace: Vec::new(),
        }
    }

    /// The card is pulled once `n` commands have been answered.
    pub fn pulled_after(mut self, n: usize) -> Self {
        self.pull_after = Some(n);
        self
    }

    /// The card.
    pub fn card(&mut self) -> &mut C {
        &mut self.card
    }
}

impl<C: Card> pos_hal::ErrorType for InHand<C> {
    type Error = CardPulled;
}

impl<C: Card> pos_hal::CardChannel for InHand<C> {
    fn transmit<'r>(
        &mut self,
        command: &pos_hal::Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<pos_hal::Rapdu<'r>, CardPulled> {
        if self.pull_after.is_some_and(|n| self.sent >= n) {
            return Err(CardPulled);
        }
        self.sent += 1;
        self.commands.push(command.ins);
        let mut raw = vec![0u8; command.encoded_len()];
        let n = command.encode_into(&mut raw).map_err(|_| CardPulled)?;
        self.trace.push(raw[..n].to_vec());
        let answer = self.card.transmit(&raw[..n]);
        // A reader with too small a buffer fails the exchange; it never cuts the answer.
        let out = response.get_mut(..answer.len()).ok_or(CardPulled)?;
        out.copy_from_slice(&answer);
        pos_hal::Rapdu::parse(out).map_err(|_| CardPulled)
    }
}
