//! The flows that name their original by number and date: the refund (退货) of a sale of any
//! earlier day (supervisor password, card, the original's reference number and date, the
//! amount to give back — the host caps it at what is left of the original), the
//! pre-authorisation completion (预授权完成: card, the authorisation code and date, the final
//! amount) and the pre-authorisation cancel (预授权撤销: supervisor password, card, code, date,
//! amount); each goes online, then prints the two receipts.

use alloc::string::String;

use pos_hal::{Amount, Key};

use super::closing::{self, Closing};
use super::void::{PasswordCheck, SupervisedConfig};
use super::{Action, CardSource, Event, Screen, Step, Transaction};

/// The refund's configuration.
pub type RefundConfig = SupervisedConfig;

/// Which of the flows this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Refund,
    Completion,
    Cancel,
}

impl Purpose {
    /// Digits of the original's number: RRN (12) or authorisation code (6).
    fn reference_len(self) -> usize {
        match self {
            Purpose::Refund => 12,
            _ => 6,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Password,
    SavingOperators(super::void::PasswordCheck),
    WaitCard,
    ReadingChip,
    Reference,
    Date,
    Amount,
    Closing(Closing),
}

/// The refund flow; drive it as [`super::SaleFlow`].
///
/// ```
/// use pos_hal::Key;
/// use pos_terminal::flows::{Event, RefundConfig, RefundFlow, Screen};
/// use pos_terminal::operators::Operators;
/// let (mut refund, _) = RefundFlow::start(RefundConfig::new(Operators::default()));
/// for d in [1, 2, 3, 4, 5, 6] {
///     refund.on(Event::Key(Key::Digit(d)));
/// }
/// refund.on(Event::Key(Key::Enter)); // → SaveOperators
/// assert!(matches!(refund.on(Event::Saved(Ok(()))).screen, Screen::PresentCard { .. }));
/// ```
#[derive(Clone)]
pub struct RefundFlow {
    purpose: Purpose,
    config: RefundConfig,
    state: State,
    typed: String,
    wrong_passwords: u8,
    source: CardSource,
    reference: [u8; 12],
    date: [u8; 4],
    amount: Amount,
    last: Step,
}

impl core::fmt::Debug for RefundFlow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RefundFlow")
            .field("state", &self.state)
            .field("amount", &self.amount)
            .finish_non_exhaustive()
    }
}

impl RefundFlow {
    /// A new refund, asking for the supervisor password.
    pub fn start(config: RefundConfig) -> (Self, Step) {
        let last = Step {
            screen: Screen::SupervisorPassword { typed: 0 },
            action: Action::WaitKey {
                timeout: config.timeout,
            },
        };
        let flow = Self {
            purpose: Purpose::Refund,
            config,
            state: State::Password,
            typed: String::new(),
            wrong_passwords: 0,
            source: CardSource::Swipe,
            reference: [b'0'; 12],
            date: [b'0'; 4],
            amount: Amount::ZERO,
            last: last.clone(),
        };
        (flow, last)
    }

    /// A pre-authorisation completion: the card first (no supervisor password).
    pub fn completion(config: RefundConfig) -> (Self, Step) {
        let (mut flow, _) = Self::start(config);
        flow.purpose = Purpose::Completion;
        let step = flow.present_card();
        (flow, step)
    }

    /// A pre-authorisation cancel, asking for the supervisor password.
    pub fn preauth_cancel(config: RefundConfig) -> (Self, Step) {
        let (mut flow, step) = Self::start(config);
        flow.purpose = Purpose::Cancel;
        (flow, step)
    }

    /// The amount to refund, complete or cancel.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// What this flow performs, with the original as typed so far.
    pub fn transaction(&self) -> Transaction {
        let mut auth = [b'0'; 6];
        auth.copy_from_slice(&self.reference[..6]);
        match self.purpose {
            Purpose::Refund => Transaction::Refund {
                reference: self.reference,
                date: self.date,
            },
            Purpose::Completion => Transaction::Completion {
                auth,
                date: self.date,
            },
            Purpose::Cancel => Transaction::PreAuthCancel {
                auth,
                date: self.date,
            },
        }
    }

    fn go(&mut self, state: State, screen: Screen, action: Action) -> Step {
        self.state = state;
        self.last = Step { screen, action };
        self.last.clone()
    }

    fn wait_key(&self) -> Action {
        Action::WaitKey {
            timeout: self.config.timeout,
        }
    }

    fn end(&mut self, reason: &'static str) -> Step {
        self.go(
            State::Closing(Closing::Done),
            Screen::Ended { reason },
            Action::Finish,
        )
    }

    /// The screen of the field being typed.
    fn typing(&mut self) -> Step {
        let screen = match self.state {
            State::Password => Screen::SupervisorPassword {
                typed: self.typed.len(),
            },
            State::Reference if self.purpose == Purpose::Refund => Screen::OriginalReference {
                digits: self.typed.clone(),
            },
            State::Reference => Screen::OriginalAuthCode {
                digits: self.typed.clone(),
            },
            State::Date => Screen::OriginalDate {
                digits: self.typed.clone(),
            },
            _ => Screen::Amount {
                amount: self.amount,
            },
        };
        let action = self.wait_key();
        let state = self.state.clone();
        self.go(state, screen, action)
    }

    fn present_card(&mut self) -> Step {
        let (modes, timeout) = (self.config.modes, self.config.timeout);
        self.go(
            State::WaitCard,
            Screen::PresentCard {
                amount: Amount::ZERO,
                modes,
            },
            Action::WaitCard { modes, timeout },
        )
    }

    fn card_read(&mut self, source: CardSource) -> Step {
        self.source = source;
        self.typed.clear();
        self.state = State::Reference;
        self.typing()
    }

    /// Feeds one event; returns what to show and do next.
    pub fn on(&mut self, event: Event) -> Step {
        let reference_len = self.purpose.reference_len();
        let max = match self.state {
            State::Password => 12,
            State::Reference => reference_len,
            _ => 4,
        };
        match (self.state.clone(), event) {
            (State::Password | State::Reference | State::Date, Event::Key(Key::Digit(d))) => {
                if self.typed.len() < max {
                    self.typed.push(char::from(b'0' + d.min(9)));
                }
                self.typing()
            }
            (State::Password | State::Reference | State::Date, Event::Key(Key::Clear)) => {
                self.typed.pop();
                self.typing()
            }
            (State::Amount, Event::Key(Key::Digit(d))) => {
                if let Ok(a) = self.amount.push_digit(d) {
                    self.amount = a;
                }
                self.typing()
            }
            (State::Amount, Event::Key(Key::Clear)) => {
                self.amount = self.amount.pop_digit();
                self.typing()
            }
            (State::Password, Event::Key(Key::Enter)) => {
                let (check, save) = self
                    .config
                    .password_entered(&mut self.typed, &mut self.wrong_passwords);
                self.go(State::SavingOperators(check), Screen::Processing, save)
            }
            (State::SavingOperators(_), Event::Saved(Err(_))) => self.end(super::void::UNSAVED),
            (State::SavingOperators(check), Event::Saved(Ok(()))) => {
                self.state = State::Password;
                match check {
                    PasswordCheck::Accepted => self.present_card(),
                    PasswordCheck::TryAgain => self.typing(),
                    PasswordCheck::Refused => self.end("wrong supervisor password"),
                }
            }
            (State::Reference, Event::Key(Key::Enter)) if self.typed.len() == reference_len => {
                self.reference = [b'0'; 12];
                self.reference[..reference_len].copy_from_slice(self.typed.as_bytes());
                self.typed.clear();
                self.state = State::Date;
                self.typing()
            }
            (State::Date, Event::Key(Key::Enter)) if valid_date(&self.typed) => {
                self.date.copy_from_slice(self.typed.as_bytes());
                self.typed.clear();
                self.state = State::Amount;
                self.typing()
            }
            (State::Amount, Event::Key(Key::Enter)) if self.amount > Amount::ZERO => {
                let (amount, source) = (self.amount, self.source);
                self.go(
                    State::Closing(Closing::Online),
                    Screen::Processing,
                    Action::GoOnline {
                        transaction: self.transaction(),
                        amount,
                        source,
                    },
                )
            }
            (
                State::Password | State::WaitCard | State::Reference | State::Date | State::Amount,
                Event::Key(Key::Cancel),
            ) => self.end("cancelled"),
            (
                State::Password | State::WaitCard | State::Reference | State::Date | State::Amount,
                Event::Timeout,
            ) => self.end("no input in time"),
            (State::WaitCard, Event::Swiped(swipe)) => match swipe.tracks().pan() {
                Ok(_) => self.card_read(CardSource::Swipe),
                Err(_) => self.present_card(),
            },
            (State::WaitCard, Event::Inserted) => self.go(
                State::ReadingChip,
                Screen::Processing,
                Action::ReadChip {
                    transaction: self.transaction(),
                    amount: self.amount(),
                },
            ),
            (State::ReadingChip, Event::ChipRead(Ok(_))) => self.card_read(CardSource::Chip),
            (State::ReadingChip, Event::ChipRead(Err(_))) => self.present_card(),
            (State::Closing(closing), event) => {
                let (amount, timeout) = (self.amount, self.config.timeout);
                match closing::on(
                    &closing,
                    event,
                    amount,
                    timeout,
                    match self.purpose {
                        Purpose::Refund => "the host cannot be reached; nothing was refunded",
                        Purpose::Completion => "the host cannot be reached; nothing was completed",
                        Purpose::Cancel => "the host cannot be reached; nothing was cancelled",
                    },
                ) {
                    Some((next, step)) => self.go(State::Closing(next), step.screen, step.action),
                    None => self.last.clone(),
                }
            }
            _ => self.last.clone(),
        }
    }
}

/// `MMDD` with a month 01–12 and a day 01–31.
fn valid_date(mmdd: &str) -> bool {
    let (Some(m), Some(d)) = (mmdd.get(0..2), mmdd.get(2..4)) else {
        return false;
    };
    mmdd.len() == 4
        && matches!(m.parse::<u8>(), Ok(1..=12))
        && matches!(d.parse::<u8>(), Ok(1..=31))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::Operators;
    use pos_hal::{Swipe, Track2, TrackRead};

    fn keys(flow: &mut RefundFlow, digits: &str) -> Step {
        let mut last = flow.last.clone();
        for d in digits.bytes() {
            last = flow.on(Event::Key(Key::Digit(d - b'0')));
        }
        last
    }

    fn swipe() -> Event {
        Event::Swiped(alloc::boxed::Box::new(Swipe::clear(
            TrackRead::Absent,
            TrackRead::from_parse(Track2::parse("6212345678901232=30121011234567890")),
            TrackRead::Absent,
        )))
    }

    #[test]
    fn a_completion_takes_the_card_then_the_six_digit_code_date_and_amount() {
        let (mut f, s) = RefundFlow::completion(RefundConfig::new(Operators::default()));
        assert!(
            matches!(s.screen, Screen::PresentCard { .. }),
            "no supervisor password"
        );
        let s = f.on(swipe());
        assert!(
            matches!(s.screen, Screen::OriginalAuthCode { .. }),
            "{:?}",
            s.screen
        );
        keys(&mut f, "1234567"); // the seventh digit is ignored
        f.on(Event::Key(Key::Enter));
        keys(&mut f, "1201");
        f.on(Event::Key(Key::Enter));
        keys(&mut f, "8000");
        let s = f.on(Event::Key(Key::Enter));
        assert_eq!(
            s.action,
            Action::GoOnline {
                transaction: Transaction::Completion {
                    auth: *b"123456",
                    date: *b"1201"
                },
                amount: Amount::from_minor(8000).expect("amount"),
                source: CardSource::Swipe,
            }
        );
    }

    #[test]
    fn a_preauthorisation_cancel_needs_the_supervisor() {
        let (mut f, s) = RefundFlow::preauth_cancel(RefundConfig::new(Operators::default()));
        assert!(matches!(s.screen, Screen::SupervisorPassword { .. }));
        keys(&mut f, "123456");
        f.on(Event::Key(Key::Enter));
        f.on(Event::Saved(Ok(())));
        f.on(swipe());
        keys(&mut f, "654321");
        f.on(Event::Key(Key::Enter));
        keys(&mut f, "1201");
        f.on(Event::Key(Key::Enter));
        keys(&mut f, "100");
        let s = f.on(Event::Key(Key::Enter));
        assert!(matches!(
            s.action,
            Action::GoOnline {
                transaction: Transaction::PreAuthCancel { auth, .. },
                ..
            } if &auth == b"654321"
        ));
    }

    fn at_reference() -> RefundFlow {
        let (mut f, _) = RefundFlow::start(RefundConfig::new(Operators::default()));
        keys(&mut f, "123456");
        f.on(Event::Key(Key::Enter));
        f.on(Event::Saved(Ok(())));
        let swipe = Swipe::clear(
            TrackRead::Absent,
            TrackRead::from_parse(Track2::parse("6212345678901232=30121011234567890")),
            TrackRead::Absent,
        );
        let s = f.on(Event::Swiped(alloc::boxed::Box::new(swipe)));
        assert!(
            matches!(s.screen, Screen::OriginalReference { .. }),
            "{:?}",
            s.screen
        );
        f
    }

    #[test]
    fn reference_date_and_amount_go_online_as_a_refund() {
        let mut f = at_reference();
        keys(&mut f, "12345");
        assert!(
            matches!(
                f.on(Event::Key(Key::Enter)).screen,
                Screen::OriginalReference { .. }
            ),
            "a short reference is not taken"
        );
        keys(&mut f, "6789012");
        assert!(matches!(
            f.on(Event::Key(Key::Enter)).screen,
            Screen::OriginalDate { .. }
        ));
        keys(&mut f, "1332");
        assert!(
            matches!(
                f.on(Event::Key(Key::Enter)).screen,
                Screen::OriginalDate { .. }
            ),
            "month 13 is not a date"
        );
        for _ in 0..4 {
            f.on(Event::Key(Key::Clear));
        }
        keys(&mut f, "1130");
        assert!(matches!(
            f.on(Event::Key(Key::Enter)).screen,
            Screen::Amount { .. }
        ));
        keys(&mut f, "2000");
        assert_eq!(
            f.on(Event::Key(Key::Enter)).action,
            Action::GoOnline {
                transaction: Transaction::Refund {
                    reference: *b"123456789012",
                    date: *b"1130",
                },
                amount: Amount::from_minor(2000).expect("a"),
                source: CardSource::Swipe,
            }
        );
    }

    #[test]
    fn cancel_anywhere_before_sending_ends_the_refund() {
        let mut f = at_reference();
        keys(&mut f, "1");
        let s = f.on(Event::Key(Key::Cancel));
        assert_eq!(s.action, Action::Finish);
    }
}
