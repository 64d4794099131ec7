//! Listing readers with their card state.

use pcsc::{Context, ReaderState, State};

use crate::PcscError;

/// What is in a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    /// No card.
    Empty,
    /// A card is present and free.
    Present,
    /// A card is present and another application is connected (shared).
    InUse,
    /// A card is present and held exclusively by another application.
    Exclusive,
    /// A card is present but does not answer to reset.
    Mute,
    /// The reader is not available.
    Unavailable,
    /// pcscd does not know.
    Unknown,
}

impl CardState {
    pub(crate) fn from_state(state: State) -> Self {
        if state.contains(State::UNAVAILABLE) {
            CardState::Unavailable
        } else if state.contains(State::MUTE) {
            CardState::Mute
        } else if state.contains(State::EXCLUSIVE) {
            CardState::Exclusive
        } else if state.contains(State::INUSE) {
            CardState::InUse
        } else if state.contains(State::PRESENT) {
            CardState::Present
        } else if state.contains(State::EMPTY) {
            CardState::Empty
        } else {
            CardState::Unknown
        }
    }

    /// True when a card is in the reader (answering or not).
    pub fn has_card(self) -> bool {
        matches!(
            self,
            CardState::Present | CardState::InUse | CardState::Exclusive | CardState::Mute
        )
    }
}

impl std::fmt::Display for CardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CardState::Empty => "empty",
            CardState::Present => "card present",
            CardState::InUse => "card in use",
            CardState::Exclusive => "card in exclusive use",
            CardState::Mute => "card mute",
            CardState::Unavailable => "unavailable",
            CardState::Unknown => "unknown",
        })
    }
}

/// A reader pcscd knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    /// Reader name (`"Virtual PCD 00 00"`).
    pub name: String,
    /// Card state.
    pub state: CardState,
    /// ATR of the card, when one is present and answered.
    pub atr: Option<Vec<u8>>,
}

pub(crate) fn list_names(ctx: &Context) -> Result<Vec<std::ffi::CString>, PcscError> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(PcscError::from_pcsc("list_readers", "", e)),
    }
}

pub(crate) fn list_in(ctx: &Context) -> Result<Vec<ReaderInfo>, PcscError> {
    let names = list_names(ctx)?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut states: Vec<ReaderState> = names
        .into_iter()
        .map(|n| ReaderState::new(n, State::UNAWARE))
        .collect();
    ctx.get_status_change(std::time::Duration::ZERO, &mut states)
        .map_err(|e| PcscError::from_pcsc("get_status_change", "", e))?;
    Ok(states
        .iter()
        .map(|s| {
            let state = CardState::from_state(s.event_state());
            let atr = (state.has_card() && !s.atr().is_empty()).then(|| s.atr().to_vec());
            ReaderInfo {
                name: s.name().to_string_lossy().into_owned(),
                state,
                atr,
            }
        })
        .collect())
}

/// Lists every reader with its card state and ATR.
///
/// With pcscd not running this is an error of kind `Disconnected`
/// ([`PcscError::NoService`]), never an empty list; with no readers it is an empty list.
///
/// ```no_run
/// for reader in pos_pcsc::readers()? {
///     println!("{}: {}", reader.name, reader.state);
/// }
/// # Ok::<(), pos_pcsc::PcscError>(())
/// ```
pub fn readers() -> Result<Vec<ReaderInfo>, PcscError> {
    let (ctx, _) = crate::context::establish()?;
    list_in(&ctx)
}
