//! A PC/SC context that re-establishes itself after pcscd restarts.

use pcsc::{Context, Scope};

use crate::PcscError;

/// Holds the current context; `get` establishes one when there is none.
#[derive(Default)]
pub(crate) struct ContextSlot {
    ctx: Option<Context>,
}

impl std::fmt::Debug for ContextSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextSlot")
            .field("established", &self.ctx.is_some())
            .finish()
    }
}

impl ContextSlot {
    pub(crate) fn get(&mut self) -> Result<&Context, PcscError> {
        self.get_fresh().map(|(ctx, _)| ctx)
    }

    /// The context, and whether it was established just now (pcscd may have restarted and
    /// renamed its readers since the last one).
    pub(crate) fn get_fresh(&mut self) -> Result<(&Context, bool), PcscError> {
        let fresh = self.ctx.is_none();
        if fresh {
            let ctx = Context::establish(Scope::User)
                .map_err(|e| PcscError::from_pcsc("establish", "", e))?;
            tracing::debug!("PC/SC context established");
            self.ctx = Some(ctx);
        }
        self.ctx
            .as_ref()
            .map(|ctx| (ctx, fresh))
            .ok_or(PcscError::NoService { op: "establish" })
    }

    /// Forgets the context after pcscd went away, so the next call starts afresh.
    pub(crate) fn invalidate(&mut self) {
        if self.ctx.take().is_some() {
            tracing::info!("PC/SC service lost; will re-establish on next use");
        }
    }
}

/// Cancels a pending wait of a reader from another thread (`SCardCancel`).
///
/// It is bound to the reader's current PC/SC context: after a pcscd restart, take a new one.
#[derive(Clone)]
pub struct Canceller {
    pub(crate) ctx: Context,
}

impl std::fmt::Debug for Canceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Canceller")
    }
}

impl Canceller {
    /// Makes the pending `wait_for_card`/`poll` of the reader return `Cancelled` now.
    pub fn cancel(&self) -> Result<(), PcscError> {
        self.ctx
            .cancel()
            .map_err(|e| PcscError::from_pcsc("cancel", "", e))
    }
}
