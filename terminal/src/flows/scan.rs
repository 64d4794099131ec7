//! Scan-code payment (扫码支付, the terminal scans the customer's payment code): amount typed
//! in cents, "scan the payment code", the code read by the scanner, online, then the two
//! receipts — as a card sale closes.

use core::time::Duration;

use pos_hal::{Amount, ErrorKind, Key};

use super::closing::{self, Closing};
use super::{Action, CardSource, Event, Screen, Step, Transaction};

/// Scans that are not a payment code after which the payment ends.
pub const SCAN_TRIES: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Amount,
    Scan,
    Closing(Closing),
}

/// The scan-code payment. Feed it every [`Event`] and perform the [`Action`] of each
/// [`Step`] until [`Action::Finish`].
///
/// ```
/// use pos_hal::Key;
/// use pos_terminal::flows::{Action, CardSource, Event, ScanFlow, Screen};
/// let (mut pay, _) = ScanFlow::start(core::time::Duration::from_secs(60));
/// for d in [1, 2, 0, 0] {
///     pay.on(Event::Key(Key::Digit(d)));
/// }
/// let step = pay.on(Event::Key(Key::Enter));
/// assert!(matches!(step.screen, Screen::ScanCode { again: false, .. }));
/// assert!(matches!(step.action, Action::ScanCode { .. }));
/// let step = pay.on(Event::CodeScanned(Ok(())));
/// assert!(matches!(step.action, Action::GoOnline { source: CardSource::PaymentCode, .. }));
/// ```
#[derive(Debug, Clone)]
pub struct ScanFlow {
    timeout: Duration,
    max_amount: Amount,
    state: State,
    amount: Amount,
    bad_scans: u8,
    last: Step,
}

impl ScanFlow {
    /// A new payment, asking for the amount; each prompt waits `timeout`.
    pub fn start(timeout: Duration) -> (Self, Step) {
        let last = Step {
            screen: Screen::Amount {
                amount: Amount::ZERO,
            },
            action: Action::WaitKey { timeout },
        };
        let flow = Self {
            timeout,
            max_amount: Amount::from_minor(9_999_999_999).unwrap_or(Amount::MAX),
            state: State::Amount,
            amount: Amount::ZERO,
            bad_scans: 0,
            last: last.clone(),
        };
        (flow, last)
    }

    /// The amount typed.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    fn go(&mut self, state: State, screen: Screen, action: Action) -> Step {
        self.state = state;
        self.last = Step { screen, action };
        self.last.clone()
    }

    fn end(&mut self, reason: &'static str) -> Step {
        self.go(
            State::Closing(Closing::Done),
            Screen::Ended { reason },
            Action::Finish,
        )
    }

    fn scan(&mut self, again: bool) -> Step {
        let (amount, timeout) = (self.amount, self.timeout);
        self.go(
            State::Scan,
            Screen::ScanCode { amount, again },
            Action::ScanCode { timeout },
        )
    }

    /// Feeds one event.
    pub fn on(&mut self, event: Event) -> Step {
        let wait = Action::WaitKey {
            timeout: self.timeout,
        };
        match (self.state.clone(), event) {
            (State::Amount, Event::Key(Key::Digit(d))) => {
                if let Ok(a) = self.amount.push_digit(d)
                    && a <= self.max_amount
                {
                    self.amount = a;
                }
                let amount = self.amount;
                self.go(State::Amount, Screen::Amount { amount }, wait)
            }
            (State::Amount, Event::Key(Key::Clear)) => {
                self.amount = self.amount.pop_digit();
                let amount = self.amount;
                self.go(State::Amount, Screen::Amount { amount }, wait)
            }
            (State::Amount, Event::Key(Key::Enter)) if self.amount > Amount::ZERO => {
                self.scan(false)
            }
            (State::Amount | State::Scan, Event::Key(Key::Cancel)) => self.end("cancelled"),
            (State::Amount, Event::Timeout) => self.end("no input in time"),
            (State::Scan, Event::CodeScanned(Ok(()))) => {
                let amount = self.amount;
                self.go(
                    State::Closing(Closing::Online),
                    Screen::Processing,
                    Action::GoOnline {
                        transaction: Transaction::Sale,
                        amount,
                        source: CardSource::PaymentCode,
                    },
                )
            }
            (State::Scan, Event::CodeScanned(Err(ErrorKind::Protocol))) => {
                self.bad_scans += 1;
                if self.bad_scans >= SCAN_TRIES {
                    self.end("no payment code could be read")
                } else {
                    self.scan(true)
                }
            }
            (State::Scan, Event::CodeScanned(Err(ErrorKind::Timeout)) | Event::Timeout) => {
                self.end("no payment code scanned in time")
            }
            (State::Scan, Event::CodeScanned(Err(ErrorKind::Cancelled))) => self.end("cancelled"),
            (State::Scan, Event::CodeScanned(Err(_))) => self.end("the scanner is not working"),
            (State::Closing(closing), event) => {
                match closing::on(
                    &closing,
                    event,
                    self.amount,
                    self.timeout,
                    "the host cannot be reached; nothing was charged",
                ) {
                    Some((next, step)) => self.go(State::Closing(next), step.screen, step.action),
                    None => self.last.clone(),
                }
            }
            _ => self.last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::OnlineOutcome;
    use crate::slip::Copy;

    fn to_scan() -> ScanFlow {
        let (mut f, _) = ScanFlow::start(Duration::from_secs(60));
        for d in [5, 0, 0, 0] {
            f.on(Event::Key(Key::Digit(d)));
        }
        f.on(Event::Key(Key::Enter));
        f
    }

    #[test]
    fn an_approved_payment_prints_both_copies() {
        let mut f = to_scan();
        f.on(Event::CodeScanned(Ok(())));
        let step = f.on(Event::Online(OnlineOutcome::Approved {
            auth: "123456".into(),
        }));
        assert_eq!(
            step.action,
            Action::Print {
                copy: Copy::Merchant
            }
        );
        assert_eq!(f.on(Event::Printed(Ok(()))).screen, Screen::TearReceipt);
        let step = f.on(Event::Key(Key::Enter));
        assert_eq!(
            step.action,
            Action::Print {
                copy: Copy::Cardholder
            }
        );
        assert_eq!(f.on(Event::Printed(Ok(()))).action, Action::Finish);
    }

    #[test]
    fn a_scan_that_is_no_code_asks_again_then_gives_up() {
        let mut f = to_scan();
        let step = f.on(Event::CodeScanned(Err(ErrorKind::Protocol)));
        assert!(matches!(step.screen, Screen::ScanCode { again: true, .. }));
        f.on(Event::CodeScanned(Err(ErrorKind::Protocol)));
        let step = f.on(Event::CodeScanned(Err(ErrorKind::Protocol)));
        assert_eq!(step.action, Action::Finish);
        assert!(matches!(step.screen, Screen::Ended { .. }));
    }

    #[test]
    fn no_scan_in_time_ends_without_going_online() {
        let mut f = to_scan();
        let step = f.on(Event::CodeScanned(Err(ErrorKind::Timeout)));
        assert_eq!(
            step.screen,
            Screen::Ended {
                reason: "no payment code scanned in time"
            }
        );
    }

    #[test]
    fn a_declined_code_shows_why() {
        let mut f = to_scan();
        f.on(Event::CodeScanned(Ok(())));
        let step = f.on(Event::Online(OnlineOutcome::Declined { rc: "51".into() }));
        assert!(matches!(step.screen, Screen::Declined { .. }));
    }
}
