//! Settlement (结算): the open batch's totals shown for the operator to confirm, 0500 with
//! them, the batch upload the host asks for when its totals differ, then the settlement list
//! printed. A failed settlement leaves the batch open and says why.

use core::time::Duration;

use pos_hal::Key;

use super::{Action, Event, Screen, Step};
use crate::online::Settlement;

/// Why a settlement did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettleFailure {
    /// The host answered with this response code.
    Rejected {
        /// Field 39.
        rc: alloc::string::String,
    },
    /// The host could not be reached, or its answer was not valid.
    Unreachable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    LookingUp,
    Confirm,
    Settling,
    Printing,
    PrinterProblem,
    Acknowledge,
    Done,
}

/// The settlement flow.
#[derive(Debug, Clone)]
pub struct SettlementFlow {
    state: State,
    timeout: Duration,
    report: Option<Settlement>,
    last: Step,
}

impl SettlementFlow {
    /// Starts: the runner looks the totals up.
    ///
    /// ```
    /// use pos_terminal::flows::{Action, SettlementFlow};
    /// let (_, step) = SettlementFlow::start(core::time::Duration::from_secs(60));
    /// assert_eq!(step.action, Action::LookUpTotals);
    /// ```
    pub fn start(timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::Processing,
            action: Action::LookUpTotals,
        };
        let flow = Self {
            state: State::LookingUp,
            timeout,
            report: None,
            last: step.clone(),
        };
        (flow, step)
    }

    /// The settlement the host accepted, once it did.
    pub fn report(&self) -> Option<&Settlement> {
        self.report.as_ref()
    }

    fn go(&mut self, state: State, screen: Screen, action: Action) -> Step {
        self.state = state;
        self.last = Step { screen, action };
        self.last.clone()
    }

    fn wait(&self) -> Action {
        Action::WaitKey {
            timeout: self.timeout,
        }
    }

    fn print(&mut self) -> Step {
        match self.report.clone() {
            Some(report) => self.go(
                State::Printing,
                Screen::PrintingSettlement,
                Action::PrintSettlement { report },
            ),
            None => self.go(State::Done, Screen::Done, Action::Finish),
        }
    }

    /// Feeds one event.
    pub fn on(&mut self, event: Event) -> Step {
        let wait = self.wait();
        match (self.state, event) {
            (State::LookingUp, Event::Totals(totals)) => {
                self.go(State::Confirm, Screen::SettlementTotals { totals }, wait)
            }
            (State::Confirm, Event::Key(Key::Enter)) => {
                self.go(State::Settling, Screen::Processing, Action::Settle)
            }
            (State::Confirm, Event::Key(Key::Cancel) | Event::Timeout) => self.go(
                State::Done,
                Screen::Ended {
                    reason: "settlement not started: the batch stays open",
                },
                Action::Finish,
            ),
            (State::Settling, Event::Settled(Ok(report))) => {
                self.report = Some(report);
                self.print()
            }
            (State::Settling, Event::Settled(Err(SettleFailure::Rejected { rc }))) => {
                let (cause, action) = crate::online::explain(&rc);
                self.go(
                    State::Acknowledge,
                    Screen::Declined { rc, cause, action },
                    wait,
                )
            }
            (State::Settling, Event::Settled(Err(_))) => self.go(
                State::Done,
                Screen::Ended {
                    reason: "the host could not be reached: the batch stays open, settle again later",
                },
                Action::Finish,
            ),
            (State::Printing, Event::Printed(Ok(()))) => {
                self.go(State::Done, Screen::Done, Action::Finish)
            }
            (State::Printing, Event::Printed(Err(fault))) => self.go(
                State::PrinterProblem,
                Screen::SettlementPrinterProblem { fault },
                wait,
            ),
            (State::PrinterProblem, Event::Key(Key::Enter)) => self.print(),
            (State::PrinterProblem, Event::Key(Key::Cancel)) => {
                self.go(State::Done, Screen::Done, Action::Finish)
            }
            (State::Acknowledge, Event::Key(_) | Event::Timeout) => {
                self.go(State::Done, Screen::Done, Action::Finish)
            }
            _ => self.last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::online::Totals;
    use pos_hal::ErrorKind;

    fn totals() -> Totals {
        Totals {
            debit: (12_34, 1),
            credit: (0, 0),
        }
    }

    fn report(balanced: bool) -> Settlement {
        Settlement {
            batch: 1,
            totals: totals(),
            balanced,
            uploaded: if balanced { 0 } else { 1 },
        }
    }

    #[test]
    fn totals_are_confirmed_then_settled_and_the_list_printed() {
        let (mut f, _) = SettlementFlow::start(Duration::from_secs(60));
        let s = f.on(Event::Totals(totals()));
        assert_eq!(s.screen, Screen::SettlementTotals { totals: totals() });
        assert_eq!(f.on(Event::Key(Key::Enter)).action, Action::Settle);
        let s = f.on(Event::Settled(Ok(report(false))));
        assert_eq!(
            s.action,
            Action::PrintSettlement {
                report: report(false)
            }
        );
        assert_eq!(f.on(Event::Printed(Ok(()))).screen, Screen::Done);
        assert_eq!(f.report(), Some(&report(false)));
    }

    #[test]
    fn cancel_leaves_the_batch_open_and_nothing_is_sent() {
        let (mut f, _) = SettlementFlow::start(Duration::from_secs(60));
        f.on(Event::Totals(totals()));
        let s = f.on(Event::Key(Key::Cancel));
        assert!(matches!(s.screen, Screen::Ended { .. }));
        assert_eq!(s.action, Action::Finish);
        assert_eq!(f.report(), None);
    }

    #[test]
    fn a_rejected_settlement_is_explained_and_an_unreachable_host_ends_it() {
        let (mut f, _) = SettlementFlow::start(Duration::from_secs(60));
        f.on(Event::Totals(totals()));
        f.on(Event::Key(Key::Enter));
        let s = f.on(Event::Settled(Err(SettleFailure::Rejected {
            rc: "A0".into(),
        })));
        assert!(matches!(s.screen, Screen::Declined { ref rc, .. } if rc == "A0"));
        let (mut g, _) = SettlementFlow::start(Duration::from_secs(60));
        g.on(Event::Totals(totals()));
        g.on(Event::Key(Key::Enter));
        let s = g.on(Event::Settled(Err(SettleFailure::Unreachable)));
        assert!(matches!(s.screen, Screen::Ended { .. }));
    }

    #[test]
    fn a_printer_fault_offers_a_reprint_and_cancel_keeps_the_settlement() {
        let (mut f, _) = SettlementFlow::start(Duration::from_secs(60));
        f.on(Event::Totals(totals()));
        f.on(Event::Key(Key::Enter));
        f.on(Event::Settled(Ok(report(true))));
        let s = f.on(Event::Printed(Err(ErrorKind::PaperOut)));
        assert!(matches!(s.screen, Screen::SettlementPrinterProblem { .. }));
        assert!(matches!(
            f.on(Event::Key(Key::Enter)).action,
            Action::PrintSettlement { .. }
        ));
        f.on(Event::Printed(Err(ErrorKind::PaperOut)));
        assert_eq!(f.on(Event::Key(Key::Cancel)).screen, Screen::Done);
        assert!(f.report().is_some());
    }
}
