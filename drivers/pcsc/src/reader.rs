//! One PC/SC reader as a pos-hal contact and contactless reader.

use std::ffi::CString;
use std::time::Duration;

use pcsc::{Card, Disposition, Protocols, ReaderState, ShareMode, State};
use pos_hal::{
    Apdu, Atr, CancelToken, CardChannel, CardProtocol, Claim, Device, DeviceInfo, DeviceKind,
    ErrorType, HealthLevel, HealthReport, HealthStatus, IccCaps, IccReader, PiccCaps, PiccReader,
    PollOutcome, Rapdu, RfType, StatusWord, Target, TargetTypes,
};
use pos_io::Deadline;
use zeroize::Zeroize;

use crate::PcscError;
use crate::context::{Canceller, ContextSlot};
use crate::discovery::{CardState, list_names};

/// PC/SC's largest extended response: 4 + 3 + 65536 + 3 + 2 (pcsc-sys).
const RX_CAPACITY: usize = pcsc::MAX_BUFFER_SIZE_EXTENDED;
/// How often a wait wakes up to look at its [`CancelToken`].
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Which reader to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderSelector {
    /// Exactly this name.
    Exact(String),
    /// The first reader whose name contains this text (case-insensitive).
    Contains(String),
    /// The first reader that has a card in it.
    FirstWithCard,
    /// The first reader.
    First,
}

impl std::fmt::Display for ReaderSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReaderSelector::Exact(n) => write!(f, "name {n:?}"),
            ReaderSelector::Contains(n) => write!(f, "a name containing {n:?}"),
            ReaderSelector::FirstWithCard => f.write_str("a reader with a card"),
            ReaderSelector::First => f.write_str("any reader"),
        }
    }
}

/// Protocols to accept when connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolChoice {
    /// T=0 only.
    T0,
    /// T=1 only.
    T1,
    /// Whatever the card and reader agree on.
    Any,
}

/// How to talk to the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Protocols to accept.
    pub protocol: ProtocolChoice,
    /// Send GET RESPONSE automatically on `61xx` and join the data.
    pub auto_get_response: bool,
    /// Re-send the command with the Le the card asks for on `6Cxx`.
    pub auto_resend_on_6c: bool,
    /// Upper bound on GET RESPONSE rounds for one command.
    pub max_get_response: usize,
    /// Longest one exchange with the card may take (PC/SC itself has no limit). Past it the
    /// exchange fails with `Timeout` and the connection to pcscd is re-established.
    pub transmit_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            protocol: ProtocolChoice::Any,
            auto_get_response: true,
            auto_resend_on_6c: true,
            max_get_response: 256,
            transmit_timeout: Duration::from_secs(15),
        }
    }
}

impl ConnectOptions {
    fn protocols(&self) -> Protocols {
        match self.protocol {
            ProtocolChoice::T0 => Protocols::T0,
            ProtocolChoice::T1 => Protocols::T1,
            ProtocolChoice::Any => Protocols::ANY,
        }
    }
}

struct Connected {
    card: Card,
    atr: Atr,
    protocol: Option<pcsc::Protocol>,
}

/// A PC/SC reader. It is `Send`: move it to the thread that uses it. Use one handle per
/// thread; two readers in two threads work concurrently.
pub struct PcscReader {
    /// How the reader was chosen, to find it again when pcscd renames it after a restart.
    selector: ReaderSelector,
    name: CString,
    display_name: String,
    options: ConnectOptions,
    slot: ContextSlot,
    connected: Option<Connected>,
    exclusive: bool,
    rx: Vec<u8>,
    tx: Vec<u8>,
    /// Ends transmits that run past `options.transmit_timeout`; started at the first transmit.
    watchdog: Option<crate::watchdog::Watchdog>,
}

impl std::fmt::Debug for PcscReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscReader")
            .field("name", &self.display_name)
            .field("powered", &self.connected.is_some())
            .field("exclusive", &self.exclusive)
            .finish()
    }
}

fn find_reader(ctx: &pcsc::Context, selector: &ReaderSelector) -> Result<CString, PcscError> {
    let names = list_names(ctx)?;
    let pick = match selector {
        ReaderSelector::Exact(want) => names.into_iter().find(|n| n.to_bytes() == want.as_bytes()),
        ReaderSelector::Contains(part) => {
            let part = part.to_lowercase();
            names
                .into_iter()
                .find(|n| n.to_string_lossy().to_lowercase().contains(&part))
        }
        ReaderSelector::First => names.into_iter().next(),
        ReaderSelector::FirstWithCard => {
            let mut states: Vec<ReaderState> = names
                .into_iter()
                .map(|n| ReaderState::new(n, State::UNAWARE))
                .collect();
            if !states.is_empty() {
                ctx.get_status_change(Duration::ZERO, &mut states)
                    .map_err(|e| PcscError::from_pcsc("get_status_change", "", e))?;
            }
            states
                .iter()
                .find(|s| CardState::from_state(s.event_state()).has_card())
                .map(|s| s.name().to_owned())
        }
    };
    pick.ok_or_else(|| PcscError::ReaderNotFound {
        selector: selector.to_string(),
    })
}

/// pcsc-lite names readers `<name> II SS` (reader index, slot). After a restart the same reader
/// may come back with another index: the same name minus that suffix finds it again; failing
/// that, a substring selector is run again. `None` when nothing matches (the reader is gone).
fn find_again(
    current: &CString,
    selector: &ReaderSelector,
    names: Vec<CString>,
) -> Option<CString> {
    if names.iter().any(|n| n == current) {
        return Some(current.clone());
    }
    let base = |n: &CString| {
        let text = n.to_string_lossy().into_owned();
        match text.len().checked_sub(6) {
            Some(cut) if text.is_char_boundary(cut) => text[..cut].to_string(),
            _ => text,
        }
    };
    let want = base(current);
    if let Some(same) = names.iter().find(|n| base(n) == want) {
        return Some(same.clone());
    }
    match selector {
        ReaderSelector::Contains(part) => {
            let part = part.to_lowercase();
            names
                .into_iter()
                .find(|n| n.to_string_lossy().to_lowercase().contains(&part))
        }
        _ => None,
    }
}

impl PcscReader {
    /// Opens the reader `selector` picks, with default options.
    pub fn open(selector: &ReaderSelector) -> Result<Self, PcscError> {
        Self::open_with(selector, ConnectOptions::default())
    }

    /// Opens the reader `selector` picks.
    pub fn open_with(
        selector: &ReaderSelector,
        options: ConnectOptions,
    ) -> Result<Self, PcscError> {
        let mut slot = ContextSlot::default();
        let name = find_reader(slot.get()?, selector)?;
        let display_name = name.to_string_lossy().into_owned();
        Ok(Self {
            selector: selector.clone(),
            name,
            display_name,
            options,
            slot,
            connected: None,
            exclusive: false,
            rx: vec![0; RX_CAPACITY],
            tx: Vec::with_capacity(pos_hal::apdu::MAX_ENCODED_LEN),
            watchdog: None,
        })
    }

    /// The reader's name.
    pub fn name(&self) -> &str {
        &self.display_name
    }

    /// The options in use.
    pub fn options(&self) -> ConnectOptions {
        self.options
    }

    /// Changes the options (takes effect at the next `power_on` for the protocol).
    pub fn set_options(&mut self, options: ConnectOptions) {
        self.options = options;
    }

    /// The protocol negotiated at the last `power_on`.
    pub fn active_protocol(&self) -> Option<pcsc::Protocol> {
        self.connected.as_ref().and_then(|c| c.protocol)
    }

    /// A handle that cancels this reader's pending wait from another thread.
    pub fn canceller(&mut self) -> Result<Canceller, PcscError> {
        Ok(Canceller {
            ctx: self.slot.get()?.clone(),
        })
    }

    /// The card state as pcscd sees it now.
    pub fn state(&mut self) -> Result<CardState, PcscError> {
        let mut states = [ReaderState::new(self.name.clone(), State::UNAWARE)];
        self.with_service("get_status_change", |ctx, _| {
            ctx.get_status_change(Duration::ZERO, &mut states)
        })?;
        Ok(CardState::from_state(states[0].event_state()))
    }

    /// Runs a PC/SC call on the context; on a lost service the context and card handle are
    /// dropped so that the next call starts afresh.
    fn with_service<T>(
        &mut self,
        op: &'static str,
        call: impl FnOnce(&pcsc::Context, &str) -> Result<T, pcsc::Error>,
    ) -> Result<T, PcscError> {
        let (ctx, fresh) = self.slot.get_fresh()?;
        if fresh {
            // A new context after a lost service: pcscd may have re-numbered its readers.
            if let Ok(names) = list_names(ctx)
                && let Some(name) = find_again(&self.name, &self.selector, names)
                && name != self.name
            {
                tracing::info!(old = %self.display_name, new = ?name, "reader renamed by pcscd; following it");
                self.display_name = name.to_string_lossy().into_owned();
                self.name = name;
            }
        }
        let ctx = self.slot.get()?;
        call(ctx, &self.display_name).map_err(|e| {
            let err = PcscError::from_pcsc(op, &self.display_name, e);
            if err.lost_service() {
                self.connected = None;
                self.slot.invalidate();
            }
            err
        })
    }

    fn share_mode(&self) -> ShareMode {
        if self.exclusive {
            ShareMode::Exclusive
        } else {
            ShareMode::Shared
        }
    }

    fn connect(&mut self) -> Result<(), PcscError> {
        self.connected = None;
        let (name, share, protocols) = (
            self.name.clone(),
            self.share_mode(),
            self.options.protocols(),
        );
        // Connecting powers the card: a hung reader blocks it like a transmit, so the same
        // deadline applies.
        self.slot.get()?;
        self.ensure_watchdog();
        let timeout = self.options.transmit_timeout;
        if let (Some(w), Some(socket)) = (self.watchdog.as_ref(), self.slot.socket()) {
            w.arm(timeout, socket);
        }
        let connected = self.with_service("connect", |ctx, _| ctx.connect(&name, share, protocols));
        if self.watchdog.as_ref().is_some_and(|w| w.disarm()) {
            let err = PcscError::TransmitTimeout(timeout);
            self.after_failure(&err);
            return Err(err);
        }
        let card = match connected {
            Ok(card) => card,
            Err(e @ (PcscError::Pcsc { .. } | PcscError::MuteCard { .. })) => {
                // pcscd cannot negotiate with a card whose ATR is garbage: say so precisely.
                return Err(self.explain_connect_failure().unwrap_or(e));
            }
            Err(e) => return Err(e),
        };
        let status = card
            .status2_owned()
            .map_err(|e| PcscError::from_pcsc("status", &self.display_name, e))?;
        let atr = Atr::parse(status.atr())?;
        let protocol = status.protocol2();
        tracing::debug!(reader = %self.display_name, ?protocol, "card connected");
        self.connected = Some(Connected {
            card,
            atr,
            protocol,
        });
        Ok(())
    }

    /// After a failed connect: an `Atr` error if the card's ATR (as pcscd saw it) is invalid.
    fn explain_connect_failure(&mut self) -> Option<PcscError> {
        let mut states = [ReaderState::new(self.name.clone(), State::UNAWARE)];
        let ctx = self.slot.get().ok()?;
        ctx.get_status_change(Duration::ZERO, &mut states).ok()?;
        if states[0].event_state().contains(State::MUTE) {
            return Some(PcscError::MuteCard {
                reader: self.display_name.clone(),
            });
        }
        Atr::parse(states[0].atr()).err().map(PcscError::Atr)
    }

    /// Why there is no connection to transmit on: no card (pulled earlier) or not powered.
    fn not_connected(&mut self) -> PcscError {
        // Not powered because the card is gone is "no card": the caller asks for the card
        // again; with a card there, the caller forgot power_on.
        match self.state() {
            Ok(state) if !state.has_card() => PcscError::NoCard {
                reader: self.display_name.clone(),
            },
            _ => PcscError::NotPowered,
        }
    }

    /// Starts the transmit watchdog once (a thread per handle that transmits).
    fn ensure_watchdog(&mut self) {
        if self.watchdog.is_none() {
            match crate::watchdog::Watchdog::new() {
                Ok(w) => self.watchdog = Some(w),
                Err(e) => {
                    tracing::warn!(error = %e, "no transmit watchdog: transmits have no deadline")
                }
            }
        }
    }

    /// After a failed exchange: forget what the error says is gone.
    fn after_failure(&mut self, err: &PcscError) {
        match err {
            PcscError::NoService { .. } | PcscError::TransmitTimeout(_) => {
                self.connected = None;
                self.slot.invalidate();
            }
            PcscError::CardRemoved { .. }
            | PcscError::NoCard { .. }
            | PcscError::ResponseTooShort { .. } => self.connected = None,
            _ => {}
        }
    }

    fn wait(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
        want: impl Fn(CardState) -> bool,
    ) -> Result<CardState, PcscError> {
        let deadline = Deadline::after(timeout);
        let mut states = [ReaderState::new(self.name.clone(), State::UNAWARE)];
        loop {
            if cancel.is_cancelled() {
                return Err(PcscError::Cancelled);
            }
            let first = states[0].current_state() == State::UNAWARE;
            let slice = if first {
                Duration::ZERO
            } else {
                deadline.remaining().min(WAIT_SLICE)
            };
            let result = self.with_service("get_status_change", |ctx, _| {
                ctx.get_status_change(slice, &mut states)
            });
            match result {
                Ok(()) => {
                    let state = CardState::from_state(states[0].event_state());
                    if state == CardState::Unavailable
                        || states[0].event_state().contains(State::UNKNOWN)
                    {
                        return Err(PcscError::ReaderGone {
                            reader: self.display_name.clone(),
                        });
                    }
                    if want(state) {
                        return Ok(state);
                    }
                    states[0].sync_current_state();
                }
                Err(PcscError::Pcsc {
                    source: pcsc::Error::Timeout,
                    ..
                }) => {}
                // pcscd went away (restarted, upgraded): the context is forgotten; wait for
                // the service with a fresh one until the deadline instead of failing a
                // "waiting for a card" that a restart should not end.
                Err(e) if e.lost_service() && !deadline.expired() => {
                    std::thread::sleep(deadline.remaining().min(Duration::from_millis(100)));
                    // Establishes the new context and follows a reader pcscd renamed.
                    let _ = self.with_service("establish", |_, _| Ok(()));
                    states = [ReaderState::new(self.name.clone(), State::UNAWARE)];
                    continue;
                }
                Err(e) => return Err(e),
            }
            if deadline.expired() {
                return Err(PcscError::Timeout(timeout));
            }
        }
    }

    /// Ends the card connection, if any, leaving the card as `disposition` says.
    fn disconnect(&mut self, disposition: Disposition) -> Result<(), PcscError> {
        if let Some(c) = self.connected.take() {
            c.card
                .disconnect(disposition)
                .map_err(|(_, e)| PcscError::from_pcsc("disconnect", &self.display_name, e))?;
        }
        Ok(())
    }

    /// Waits until the card is gone (the terminal's "please remove card").
    fn wait_until_removed(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<(), PcscError> {
        self.wait(timeout, cancel, |s| !s.has_card())?;
        self.connected = None;
        Ok(())
    }

    fn transmit_inner<'r>(
        &mut self,
        command: &Apdu<'_>,
        out: &'r mut [u8],
    ) -> Result<Rapdu<'r>, PcscError> {
        if self.connected.is_none() {
            return Err(self.not_connected());
        }
        self.ensure_watchdog();
        let Some(connected) = self.connected.as_ref() else {
            return Err(self.not_connected());
        };
        let guard = self.watchdog.as_ref().zip(self.slot.socket());
        let mut wire = Wire {
            card: &connected.card,
            tx: &mut self.tx,
            rx: &mut self.rx,
            reader: &self.display_name,
            used: 0,
            guard,
            timeout: self.options.transmit_timeout,
        };
        let result = wire.transmit(&self.options, command, out);
        if let Err(e) = &result {
            self.after_failure(e);
        }
        result
    }

    /// Runs `body` inside a PC/SC transaction (`SCardBeginTransaction`): while it runs, no
    /// other application sharing the reader can slip an APDU between ours, so a multi-APDU
    /// sequence (SELECT, GET PROCESSING OPTIONS, READ RECORD…) sees the card state it left.
    /// The transaction ends (leaving the card powered) when `body` returns, also on error.
    pub fn transaction<T>(
        &mut self,
        body: impl FnOnce(&mut PcscTransaction<'_>) -> Result<T, PcscError>,
    ) -> Result<T, PcscError> {
        if self.connected.is_none() {
            return Err(self.not_connected());
        }
        self.ensure_watchdog();
        let Some(mut connected) = self.connected.take() else {
            return Err(self.not_connected());
        };
        let guard = self.watchdog.as_ref().zip(self.slot.socket());
        let result = match connected.card.transaction2() {
            Ok(held) => {
                let mut t = PcscTransaction {
                    wire: Wire {
                        card: &held,
                        tx: &mut self.tx,
                        rx: &mut self.rx,
                        reader: &self.display_name,
                        used: 0,
                        guard,
                        timeout: self.options.transmit_timeout,
                    },
                    options: self.options,
                };
                let result = body(&mut t);
                match (held.end(Disposition::LeaveCard), result) {
                    (Ok(()), result) => result,
                    (Err((_, e)), Ok(_)) => Err(PcscError::from_pcsc(
                        "end_transaction",
                        &self.display_name,
                        e,
                    )),
                    (Err(_), Err(e)) => Err(e),
                }
            }
            Err((_, e)) => Err(PcscError::from_pcsc(
                "begin_transaction",
                &self.display_name,
                e,
            )),
        };
        self.connected = Some(connected);
        if let Err(e) = &result {
            self.after_failure(e);
        }
        result
    }
}

/// The card side of one exchange: the card handle (or a transaction on it) and the buffers.
struct Wire<'a> {
    card: &'a Card,
    tx: &'a mut Vec<u8>,
    rx: &'a mut Vec<u8>,
    reader: &'a str,
    /// The most bytes a response put into `rx` (what must be wiped).
    used: usize,
    /// The deadline keeper and the context's socket, when both are known.
    guard: Option<(&'a crate::watchdog::Watchdog, std::os::fd::RawFd)>,
    /// Longest one exchange may take.
    timeout: Duration,
}

/// Wipes the part of the buffers a command used: responses hold PANs and tracks, commands may
/// hold PIN blocks (VERIFY) — nothing of a card session stays in the reader handle.
struct WipeOnDrop<'w, 'a>(&'w mut Wire<'a>);

impl Drop for WipeOnDrop<'_, '_> {
    fn drop(&mut self) {
        let used = self.0.used.min(self.0.rx.len());
        self.0.rx[..used].zeroize();
        self.0.used = 0;
    }
}

impl Wire<'_> {
    /// One raw exchange; returns the response length in `rx`.
    fn exchange(&mut self, command: &Apdu<'_>) -> Result<usize, PcscError> {
        let result = self.exchange_raw(command);
        let sent = command.encoded_len().min(self.tx.len());
        self.tx[..sent].zeroize();
        if let Ok(len) = result {
            self.used = self.used.max(len);
        }
        result
    }

    fn exchange_raw(&mut self, command: &Apdu<'_>) -> Result<usize, PcscError> {
        self.tx.resize(command.encoded_len(), 0);
        let n = command.encode_into(self.tx)?;
        if let Some((watchdog, socket)) = self.guard {
            watchdog.arm(self.timeout, socket);
        }
        let result = self.card.transmit(&self.tx[..n], self.rx).map(<[u8]>::len);
        if let Some((watchdog, _)) = self.guard
            && watchdog.disarm()
        {
            return Err(PcscError::TransmitTimeout(self.timeout));
        }
        match result {
            Ok(len) if len >= 2 => Ok(len),
            // pcscd returns an empty "success" when the card vanished mid-command.
            Ok(len) => Err(PcscError::ResponseTooShort { len }),
            Err(e) => Err(PcscError::from_pcsc("transmit", self.reader, e)),
        }
    }

    fn sw(&self, len: usize) -> StatusWord {
        StatusWord::from_bytes(self.rx[len - 2], self.rx[len - 1])
    }

    /// A command with `61xx` (GET RESPONSE) and `6Cxx` (resend with Le) handled as `options` say;
    /// the receive buffer is wiped afterwards.
    fn transmit<'r>(
        &mut self,
        options: &ConnectOptions,
        command: &Apdu<'_>,
        out: &'r mut [u8],
    ) -> Result<Rapdu<'r>, PcscError> {
        let guard = WipeOnDrop(self);
        guard.0.transmit_inner(options, command, out)
    }

    fn transmit_inner<'r>(
        &mut self,
        options: &ConnectOptions,
        command: &Apdu<'_>,
        out: &'r mut [u8],
    ) -> Result<Rapdu<'r>, PcscError> {
        let mut len = self.exchange(command)?;
        let mut sw = self.sw(len);
        if let (true, Some(ne)) = (options.auto_resend_on_6c, sw.exact_length()) {
            len = self.exchange(&Apdu {
                le: Some(ne as u32),
                ..*command
            })?;
            sw = self.sw(len);
        }
        let mut at = 0;
        let capacity = out.len();
        let mut append = |rx: &[u8], at: &mut usize| -> Result<(), PcscError> {
            let end = *at + rx.len();
            let dst = out.get_mut(*at..end).ok_or(PcscError::BufferTooSmall {
                needed: end + 2,
                capacity,
            })?;
            dst.copy_from_slice(rx);
            *at = end;
            Ok(())
        };
        append(&self.rx[..len - 2], &mut at)?;
        let mut rounds = 0;
        while let (true, Some(available)) = (options.auto_get_response, sw.bytes_available()) {
            rounds += 1;
            if rounds > options.max_get_response {
                return Err(PcscError::GetResponseLoop(rounds - 1));
            }
            let get = Apdu::new(command.cla & 0x03, 0xC0, 0x00, 0x00).with_le(available as u32);
            let n = self.exchange(&get)?;
            sw = self.sw(n);
            append(&self.rx[..n - 2], &mut at)?;
        }
        let end = at + 2;
        let tail = out.get_mut(at..end).ok_or(PcscError::BufferTooSmall {
            needed: end,
            capacity,
        })?;
        tail.copy_from_slice(&[sw.sw1(), sw.sw2()]);
        Ok(Rapdu::parse(&out[..end])?)
    }
}

/// A card held in a PC/SC transaction; see [`PcscReader::transaction`]. It is a
/// [`CardChannel`], so the EMV kernel runs on it unchanged.
pub struct PcscTransaction<'a> {
    wire: Wire<'a>,
    options: ConnectOptions,
}

impl std::fmt::Debug for PcscTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransaction")
            .field("reader", &self.wire.reader)
            .finish()
    }
}

impl ErrorType for PcscTransaction<'_> {
    type Error = PcscError;
}

impl CardChannel for PcscTransaction<'_> {
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        out: &'r mut [u8],
    ) -> Result<Rapdu<'r>, PcscError> {
        self.wire.transmit(&self.options, command, out)
    }
}

impl Drop for PcscReader {
    fn drop(&mut self) {
        if let Some(c) = self.connected.take() {
            let _ = c.card.disconnect(Disposition::LeaveCard);
        }
    }
}

impl ErrorType for PcscReader {
    type Error = PcscError;
}

impl CardChannel for PcscReader {
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        out: &'r mut [u8],
    ) -> Result<Rapdu<'r>, PcscError> {
        self.transmit_inner(command, out)
    }
}

impl IccReader for PcscReader {
    fn caps(&self) -> IccCaps {
        IccCaps::default().with_max_apdu(pos_hal::apdu::MAX_ENCODED_LEN)
    }

    fn card_present(&mut self) -> Result<bool, PcscError> {
        Ok(self.state()?.has_card())
    }

    fn wait_for_card(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<(), PcscError> {
        self.wait(timeout, cancel, CardState::has_card).map(|_| ())
    }

    fn power_on(&mut self) -> Result<Atr, PcscError> {
        if let Some(c) = self.connected.take() {
            // A fresh connection after a reset is the portable cold reset.
            let _ = c.card.disconnect(Disposition::ResetCard);
        }
        self.connect()?;
        self.connected
            .as_ref()
            .map(|c| c.atr)
            .ok_or(PcscError::NotPowered)
    }

    fn power_off(&mut self) -> Result<(), PcscError> {
        self.disconnect(Disposition::UnpowerCard)
    }
}

/// Contact or contactless, as far as the reader's name tells: PC/SC itself does not say.
fn reader_kind(name: &str) -> DeviceKind {
    let lower = name.to_ascii_lowercase();
    if ["picc", "contactless", " cl "]
        .iter()
        .any(|hint| lower.contains(hint))
    {
        DeviceKind::ContactlessReader
    } else {
        DeviceKind::ContactReader
    }
}

/// RF type and protocol of a contactless card from its PC/SC ATR (PC/SC part 3 §3.1.3.2.3).
///
/// Storage cards (MIFARE Classic/Ultralight) carry the PC/SC RID and are type A. For ISO-DEP
/// cards part 3 puts the ATS historical bytes (type A) or the ATQB application data, protocol
/// info and MBLI (type B, always 8 bytes) into the historical bytes; 8 bytes can be either, so
/// only the other lengths prove type A.
fn classify(atr: &Atr) -> (RfType, CardProtocol) {
    let hist = atr.historical_bytes();
    if hist.starts_with(&[0x80, 0x4F]) && hist.get(3..8) == Some(&[0xA0, 0x00, 0x00, 0x03, 0x06]) {
        return (RfType::A, CardProtocol::Mifare);
    }
    let rf = if hist.len() == 8 {
        RfType::Unknown
    } else {
        RfType::A
    };
    (rf, CardProtocol::IsoDep)
}

impl PcscReader {
    /// One poll attempt on a present card: connect, read the UID, classify.
    fn activate(&mut self) -> Result<Target, PcscError> {
        let atr = IccReader::power_on(self)?;
        let mut buf = [0u8; 16];
        let get_uid = Apdu::new(0xFF, 0xCA, 0x00, 0x00).with_le(256);
        let uid = match self.transmit_inner(&get_uid, &mut buf) {
            Ok(r) if r.sw.is_success() => pos_hal::Uid::new(r.data).ok(),
            Ok(_) => None,
            Err(e) => return Err(e),
        };
        let (rf, protocol) = match uid {
            Some(_) => classify(&atr),
            None => (RfType::Unknown, CardProtocol::Other),
        };
        let target = Target::new(rf, protocol, uid.unwrap_or_default());
        Ok(target
            .with_historical(atr.historical_bytes())
            .unwrap_or(target))
    }
}

impl PiccReader for PcscReader {
    fn caps(&self) -> PiccCaps {
        PiccCaps::new(TargetTypes::AB, pos_hal::apdu::MAX_ENCODED_LEN).with_autonomous_polling(true)
    }

    /// Waits for a card, connects and reads its UID with `FF CA 00 00 00`. The reader does
    /// anticollision itself, so `Collision` is never reported. A card of a type not asked for
    /// is deactivated and the poll goes on until it leaves and another comes, or time is up.
    fn poll(
        &mut self,
        types: TargetTypes,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<PollOutcome, PcscError> {
        if types.is_empty() {
            return Err(PcscError::InvalidArgument("poll for no card type"));
        }
        let deadline = Deadline::after(timeout);
        loop {
            match self.wait(deadline.remaining(), cancel, CardState::has_card) {
                Ok(_) => {}
                Err(PcscError::Timeout(_)) => return Ok(PollOutcome::Nothing),
                Err(e) => return Err(e),
            }
            let target = self.activate()?;
            if types.admits(target.rf) {
                return Ok(PollOutcome::Card(target));
            }
            tracing::debug!(reader = %self.display_name, rf = ?target.rf, "card of another type ignored");
            self.disconnect(Disposition::LeaveCard)?;
            match self.wait_until_removed(deadline.remaining(), cancel) {
                Ok(()) => {}
                Err(PcscError::Timeout(_)) => return Ok(PollOutcome::Nothing),
                Err(e) => return Err(e),
            }
        }
    }

    fn wait_for_removal(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<(), PcscError> {
        self.wait_until_removed(timeout, cancel)
    }

    fn deactivate(&mut self) -> Result<(), PcscError> {
        self.disconnect(Disposition::ResetCard)
    }
}

impl Device for PcscReader {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            reader_kind(&self.display_name),
            "pcsc",
            &self.display_name,
            &format!("pcsc:{}", self.display_name),
        )
    }

    /// `Internal`: the reader is listed and its state readable. `External`: also powers the
    /// card, if one is present, and checks its ATR. `Err` only when pcscd cannot be asked.
    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, PcscError> {
        let state = self.state()?;
        let mut detail = format!("{}: {state}", self.display_name);
        let mut status = match state {
            CardState::Unavailable | CardState::Unknown => HealthStatus::Failed,
            CardState::Mute => HealthStatus::Degraded,
            _ => HealthStatus::Ok,
        };
        if level != HealthLevel::Internal && state.has_card() {
            match IccReader::power_on(self) {
                Ok(atr) => detail = format!("{detail}, ATR {atr}"),
                Err(e) => {
                    detail = format!("{detail}, power on failed: {e}");
                    status = HealthStatus::Failed;
                }
            }
        }
        Ok(HealthReport::new(level, status, &detail))
    }
}

impl Claim for PcscReader {
    /// Takes the card exclusively (`SCARD_SHARE_EXCLUSIVE`); other applications get `Busy`.
    fn acquire(&mut self) -> Result<(), PcscError> {
        self.exclusive = true;
        if self.connected.is_some() {
            let protocols = self.options.protocols();
            let result = match self.connected.as_mut() {
                Some(c) => {
                    c.card
                        .reconnect(ShareMode::Exclusive, protocols, Disposition::LeaveCard)
                }
                None => Ok(()),
            };
            if let Err(e) = result {
                self.exclusive = false;
                return Err(PcscError::from_pcsc("reconnect", &self.display_name, e));
            }
        }
        Ok(())
    }

    fn release(&mut self) {
        self.exclusive = false;
        let protocols = self.options.protocols();
        if let Some(c) = self.connected.as_mut()
            && let Err(e) = c
                .card
                .reconnect(ShareMode::Shared, protocols, Disposition::LeaveCard)
        {
            tracing::warn!(reader = %self.display_name, error = %e, "could not share the card again");
            self.connected = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn reader_handle_is_send() {
        assert_send::<PcscReader>();
        assert_send::<Canceller>();
    }

    fn names(list: &[&str]) -> Vec<CString> {
        list.iter()
            .map(|n| CString::new(*n).expect("no NUL"))
            .collect()
    }

    #[test]
    fn a_renumbered_reader_is_found_again() {
        let current = CString::new("ACS ACR1252 1S CL Reader PICC 00 00").expect("no NUL");
        let after = names(&["Virtual PCD 00 00", "ACS ACR1252 1S CL Reader PICC 01 00"]);
        let exact = ReaderSelector::Exact("ACS ACR1252 1S CL Reader PICC 00 00".into());
        assert_eq!(
            find_again(&current, &exact, after.clone()),
            Some(after[1].clone())
        );
        assert_eq!(
            find_again(&current, &exact, names(&["Virtual PCD 00 00"])),
            None,
            "gone is gone"
        );
        let same = names(&["ACS ACR1252 1S CL Reader PICC 00 00"]);
        assert_eq!(
            find_again(&current, &exact, same.clone()),
            Some(same[0].clone())
        );
        let part = ReaderSelector::Contains("pcd".into());
        let v = CString::new("Virtual PCD 00 00").expect("no NUL");
        let renamed = names(&["Virtual PCD 01 00"]);
        assert_eq!(
            find_again(&v, &part, renamed.clone()),
            Some(renamed[0].clone())
        );
    }

    #[test]
    fn reader_kind_follows_the_name() {
        assert_eq!(reader_kind("Virtual PCD 00 00"), DeviceKind::ContactReader);
        assert_eq!(
            reader_kind("ACS ACR1252 1S CL Reader PICC 00 01"),
            DeviceKind::ContactlessReader
        );
    }

    #[test]
    fn storage_cards_are_told_from_iso_dep() {
        // ACR122U answer for a MIFARE Classic 1K.
        let classic = Atr::parse(&[
            0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00,
            0x01, 0x00, 0x00, 0x00, 0x00, 0x6A,
        ])
        .expect("valid ATR");
        assert_eq!(classify(&classic), (RfType::A, CardProtocol::Mifare));
        let iso = Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01]).expect("valid ATR");
        assert_eq!(classify(&iso), (RfType::A, CardProtocol::IsoDep));
        // Part 3 type B: ATQB application data (4), protocol info (3), MBLI (1).
        let b = Atr::parse(&[
            0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x33, 0x81, 0x81, 0x00, 0x3A,
        ])
        .expect("valid ATR");
        assert_eq!(classify(&b).0, RfType::Unknown);
    }
}
