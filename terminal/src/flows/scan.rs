//! Scan-code payment (扫码支付), both ways:
//! - the terminal scans the customer's payment code ([`ScanFlow::start`]): amount, "scan the
//!   payment code", the code read by the scanner, online;
//! - the customer scans the terminal's QR ([`ScanFlow::show_qr`]): amount, an order created
//!   at the host, its QR shown, the order asked after until it is paid (Cancel or the timeout
//!   close it);
//!
//! then the two receipts, as a card sale closes.

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
    Creating,
    ShowQr {
        payload: alloc::string::String,
        waited: Duration,
    },
    ClosingOrder {
        reason: &'static str,
    },
    Closing(Closing),
}

/// Which way the code goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    CustomerCode,
    TerminalQr,
}

/// How often the terminal asks whether its QR order is paid.
pub const ORDER_POLL: Duration = Duration::from_secs(2);

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
    mode: Mode,
    poll: Duration,
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
            mode: Mode::CustomerCode,
            poll: ORDER_POLL,
            timeout,
            max_amount: Amount::from_minor(9_999_999_999).unwrap_or(Amount::MAX),
            state: State::Amount,
            amount: Amount::ZERO,
            bad_scans: 0,
            last: last.clone(),
        };
        (flow, last)
    }

    /// The customer scans the terminal's QR: amount, order, QR shown and asked after every
    /// `poll` until paid; unpaid after `timeout` (or on Cancel) the order is closed.
    ///
    /// ```
    /// use core::time::Duration;
    /// use pos_hal::Key;
    /// use pos_terminal::flows::{Action, Event, OnlineOutcome, ScanFlow, Screen};
    /// let (mut pay, _) = ScanFlow::show_qr(Duration::from_secs(60), Duration::from_secs(2));
    /// pay.on(Event::Key(Key::Digit(5)));
    /// assert!(matches!(pay.on(Event::Key(Key::Enter)).action, Action::CreateOrder { .. }));
    /// let step = pay.on(Event::OrderCreated(Ok("https://qr.example.com/pay/1".into())));
    /// assert!(matches!(step.screen, Screen::ShowQr { .. }));
    /// assert!(matches!(step.action, Action::QueryOrder { .. }));
    /// let step = pay.on(Event::Online(OnlineOutcome::Declined { rc: "Q1".into() }));
    /// assert!(matches!(step.action, Action::QueryOrder { .. }), "not paid yet: ask again");
    /// ```
    pub fn show_qr(timeout: Duration, poll: Duration) -> (Self, Step) {
        let (mut flow, step) = Self::start(timeout);
        flow.mode = Mode::TerminalQr;
        flow.poll = poll;
        (flow, step)
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

    fn show(&mut self, payload: alloc::string::String, waited: Duration) -> Step {
        let (amount, after) = (self.amount, self.poll);
        self.go(
            State::ShowQr {
                payload: payload.clone(),
                waited,
            },
            Screen::ShowQr { amount, payload },
            Action::QueryOrder { amount, after },
        )
    }

    fn close_order(&mut self, reason: &'static str) -> Step {
        self.go(
            State::ClosingOrder { reason },
            Screen::Processing,
            Action::CloseOrder,
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
            (State::Amount, Event::Key(Key::Enter))
                if self.amount > Amount::ZERO && self.mode == Mode::TerminalQr =>
            {
                let amount = self.amount;
                self.go(
                    State::Creating,
                    Screen::Processing,
                    Action::CreateOrder { amount },
                )
            }
            (State::Amount, Event::Key(Key::Enter)) if self.amount > Amount::ZERO => {
                self.scan(false)
            }
            (State::Amount | State::Scan, Event::Key(Key::Cancel)) => self.end("cancelled"),
            (State::Creating, Event::OrderCreated(Ok(payload))) => {
                self.show(payload, Duration::ZERO)
            }
            (State::Creating, Event::OrderCreated(Err(_))) => {
                self.end("the host cannot be reached; nothing was charged")
            }
            (State::ShowQr { .. }, Event::Key(Key::Cancel)) => self.close_order("cancelled"),
            (
                State::ShowQr { payload, waited },
                Event::Online(super::OnlineOutcome::Declined { rc }),
            ) if rc == "Q1" => {
                let waited = waited.saturating_add(self.poll);
                if waited >= self.timeout {
                    self.close_order("the customer did not pay in time")
                } else {
                    self.show(payload, waited)
                }
            }
            (State::ShowQr { .. }, event @ Event::Online(_)) => {
                self.state = State::Closing(Closing::Online);
                self.on(event)
            }
            (State::ClosingOrder { reason }, Event::OrderClosed) => self.end(reason),
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

    fn to_qr() -> ScanFlow {
        let (mut f, _) = ScanFlow::show_qr(Duration::from_secs(6), Duration::from_secs(2));
        f.on(Event::Key(Key::Digit(5)));
        f.on(Event::Key(Key::Enter));
        f.on(Event::OrderCreated(Ok(
            "https://qr.example.com/pay/9".into()
        )));
        f
    }

    #[test]
    fn a_paid_order_closes_like_a_sale() {
        let mut f = to_qr();
        f.on(Event::Online(OnlineOutcome::Declined { rc: "Q1".into() }));
        let step = f.on(Event::Online(OnlineOutcome::Approved {
            auth: "123456".into(),
        }));
        assert_eq!(
            step.action,
            Action::Print {
                copy: Copy::Merchant
            }
        );
    }

    #[test]
    fn an_order_unpaid_until_the_timeout_is_closed() {
        let mut f = to_qr();
        let q1 = || Event::Online(OnlineOutcome::Declined { rc: "Q1".into() });
        assert!(matches!(f.on(q1()).action, Action::QueryOrder { .. }));
        assert!(matches!(f.on(q1()).action, Action::QueryOrder { .. }));
        assert_eq!(f.on(q1()).action, Action::CloseOrder);
        let step = f.on(Event::OrderClosed);
        assert_eq!(
            step.screen,
            Screen::Ended {
                reason: "the customer did not pay in time"
            }
        );
    }

    #[test]
    fn cancel_while_the_qr_shows_closes_the_order() {
        let mut f = to_qr();
        assert_eq!(f.on(Event::Key(Key::Cancel)).action, Action::CloseOrder);
        assert_eq!(f.on(Event::OrderClosed).action, Action::Finish);
    }

    #[test]
    fn a_declined_code_shows_why() {
        let mut f = to_scan();
        f.on(Event::CodeScanned(Ok(())));
        let step = f.on(Event::Online(OnlineOutcome::Declined { rc: "51".into() }));
        assert!(matches!(step.screen, Screen::Declined { .. }));
    }
}
