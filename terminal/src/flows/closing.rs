//! What every money-moving flow does once the request is sent: the outcome shown (approved,
//! declined with its cause, unknown → reversal), then the merchant copy, the tear prompt and the
//! cardholder copy, a printer problem fixed and the copy printed again — or, when the merchant
//! copy cannot be printed and the operator gives up, the approval reversed.

use core::time::Duration;

use pos_hal::{Amount, Key};

use super::{Action, Event, OnlineOutcome, Screen, Step};
use crate::slip::Copy;

/// Where a flow stands after [`Action::GoOnline`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Closing {
    Online,
    Printing(Copy),
    PrinterProblem(Copy),
    Tear,
    Abandoning,
    Acknowledge,
    Done,
}

/// The next state and step, or `None` when `event` means nothing here.
pub(super) fn on(
    state: &Closing,
    event: Event,
    amount: Amount,
    timeout: Duration,
    unreachable: &'static str,
) -> Option<(Closing, Step)> {
    let wait = Action::WaitKey { timeout };
    let step = |screen, action| Step { screen, action };
    let print = |copy| {
        (
            Closing::Printing(copy),
            step(Screen::Printing { copy }, Action::Print { copy }),
        )
    };
    Some(match (state, event) {
        (Closing::Online, Event::Online(OnlineOutcome::Approved { auth })) => (
            Closing::Printing(Copy::Merchant),
            step(
                Screen::Approved { amount, auth },
                Action::Print {
                    copy: Copy::Merchant,
                },
            ),
        ),
        (Closing::Online, Event::Online(OnlineOutcome::Declined { rc })) => {
            let (cause, action) = crate::online::explain(&rc);
            (
                Closing::Acknowledge,
                step(
                    Screen::Declined {
                        rc,
                        cause: super::sale::decline_cause(cause),
                        action,
                    },
                    wait,
                ),
            )
        }
        (Closing::Online, Event::Online(OnlineOutcome::Unreachable)) => (
            Closing::Done,
            step(
                Screen::Ended {
                    reason: unreachable,
                },
                Action::Finish,
            ),
        ),
        (Closing::Online, Event::Online(_)) => {
            (Closing::Acknowledge, step(Screen::Reversing, wait))
        }
        (Closing::Printing(Copy::Merchant), Event::Printed(Ok(()))) => {
            (Closing::Tear, step(Screen::TearReceipt, wait))
        }
        (Closing::Printing(_), Event::Printed(Ok(()))) => {
            (Closing::Done, step(Screen::Done, Action::Finish))
        }
        (Closing::Printing(copy), Event::Printed(Err(fault))) => (
            Closing::PrinterProblem(*copy),
            step(Screen::PrinterProblem { copy: *copy, fault }, wait),
        ),
        (Closing::PrinterProblem(copy), Event::Key(Key::Enter)) => print(*copy),
        // Without the merchant's signed copy the approval cannot stand (Lakala: reverse, 06).
        (Closing::PrinterProblem(Copy::Merchant), Event::Key(Key::Cancel)) => (
            Closing::Abandoning,
            step(Screen::Reversing, Action::Abandon),
        ),
        // The merchant has their copy: the transaction stands without the cardholder's.
        (Closing::PrinterProblem(_), Event::Key(Key::Cancel)) => {
            (Closing::Done, step(Screen::Done, Action::Finish))
        }
        (Closing::Abandoning, Event::Online(_)) => {
            (Closing::Acknowledge, step(Screen::Reversing, wait))
        }
        (Closing::Tear, Event::Key(_) | Event::Timeout) => print(Copy::Cardholder),
        (Closing::Acknowledge, Event::Key(_) | Event::Timeout) => {
            (Closing::Done, step(Screen::Done, Action::Finish))
        }
        _ => return None,
    })
}
