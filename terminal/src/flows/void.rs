//! The void (消费撤销) of a sale of the open batch: the supervisor password, the original's
//! voucher number, the original shown to confirm, the same card presented again, online, then
//! the two receipts as for a sale.

use alloc::string::{String, ToString};
use core::time::Duration;

use pos_hal::{Amount, EntryModes, Key, Pan};
use zeroize::Zeroize;

use crate::operators::{OperatorError, Operators};

use super::closing::{self, Closing};
use super::{Action, CardSource, Event, Screen, Step, Transaction};

/// The sale being voided, as the runner found it in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalSale {
    /// Its voucher number.
    pub voucher: u32,
    /// Its card.
    pub pan: Pan,
    /// Its amount.
    pub amount: Amount,
}

/// How the flows that need the supervisor (void, refund) are configured.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SupervisedConfig {
    /// The operator table: the supervisor (主管, `00`) password is checked against it like a
    /// login — wrong ones counted and kept, locking `00` at the limit.
    pub operators: Operators,
    /// Wrong passwords before this flow gives up.
    pub password_attempts: u8,
    /// Card entry modes.
    pub modes: EntryModes,
    /// Time for each prompt.
    pub timeout: Duration,
}

impl core::fmt::Debug for SupervisedConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SupervisedConfig")
            .field("operators", &self.operators)
            .field("password_attempts", &self.password_attempts)
            .field("modes", &self.modes)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The void's configuration.
pub type VoidConfig = SupervisedConfig;

/// Why a supervised flow ends when the operator table cannot be saved: a wrong password
/// that is not counted would let anyone try again and again.
pub(super) const UNSAVED: &str = "the operator table cannot be kept: see the journal";

/// What a typed supervisor password leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PasswordCheck {
    /// Right.
    Accepted,
    /// Wrong; it may be typed again.
    TryAgain,
    /// Wrong too often: the flow ends.
    Refused,
}

impl SupervisedConfig {
    /// The supervisor password in `typed` was entered: checked (and cleared) against the
    /// operator table, which counts it; the action keeps the table's count before the flow
    /// goes on.
    pub(super) fn password_entered(
        &mut self,
        typed: &mut String,
        wrong: &mut u8,
    ) -> (PasswordCheck, Action) {
        let check = self.check_password(typed, wrong);
        let operators = self.operators.clone();
        (check, Action::SaveOperators { operators })
    }

    /// Checks the password in `typed` (and clears it) against the operator table, which
    /// counts it; `wrong` counts this flow's wrong tries.
    fn check_password(&mut self, typed: &mut String, wrong: &mut u8) -> PasswordCheck {
        let verdict = self.operators.supervisor(typed);
        typed.zeroize();
        typed.clear();
        match verdict {
            Ok(()) => return PasswordCheck::Accepted,
            Err(OperatorError::Locked) => return PasswordCheck::Refused,
            Err(_) => {}
        }
        *wrong = wrong.saturating_add(1);
        if *wrong >= self.password_attempts {
            PasswordCheck::Refused
        } else {
            PasswordCheck::TryAgain
        }
    }
}

impl SupervisedConfig {
    /// The supervisor of `operators`, 3 attempts, swipe and insert, 60 s.
    pub fn new(operators: Operators) -> Self {
        Self {
            operators,
            password_attempts: 3,
            modes: EntryModes::ALL.without(EntryModes::TAP),
            timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Password,
    SavingOperators(PasswordCheck),
    Voucher,
    LookUp,
    Confirm,
    WaitCard,
    ReadingChip,
    Closing(Closing),
}

/// The void flow; drive it as [`super::SaleFlow`].
///
/// ```
/// use pos_hal::Key;
/// use pos_terminal::flows::{Action, Event, Screen, VoidConfig, VoidFlow};
/// use pos_terminal::operators::Operators;
/// let (mut void, step) = VoidFlow::start(VoidConfig::new(Operators::default()));
/// assert!(matches!(step.screen, Screen::SupervisorPassword { typed: 0 }));
/// for d in [1, 2, 3, 4, 5, 6] {
///     void.on(Event::Key(Key::Digit(d)));
/// }
/// let step = void.on(Event::Key(Key::Enter));
/// // The table (its failure count) is kept before the void goes on.
/// assert!(matches!(step.action, Action::SaveOperators { .. }));
/// let step = void.on(Event::Saved(Ok(())));
/// assert!(matches!(step.screen, Screen::VoucherNumber { .. }));
/// ```
#[derive(Clone)]
pub struct VoidFlow {
    config: VoidConfig,
    state: State,
    typed: String,
    wrong_passwords: u8,
    original: Option<OriginalSale>,
    last: Step,
}

impl core::fmt::Debug for VoidFlow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VoidFlow")
            .field("state", &self.state)
            .field("original", &self.original)
            .finish_non_exhaustive()
    }
}

impl VoidFlow {
    /// A new void, asking for the supervisor password.
    pub fn start(config: VoidConfig) -> (Self, Step) {
        let last = Step {
            screen: Screen::SupervisorPassword { typed: 0 },
            action: Action::WaitKey {
                timeout: config.timeout,
            },
        };
        let flow = Self {
            config,
            state: State::Password,
            typed: String::new(),
            wrong_passwords: 0,
            original: None,
            last: last.clone(),
        };
        (flow, last)
    }

    /// The amount of the original sale (zero until it is found).
    pub fn amount(&self) -> Amount {
        self.original.as_ref().map_or(Amount::ZERO, |o| o.amount)
    }

    /// The sale being voided, once found.
    pub fn original(&self) -> Option<&OriginalSale> {
        self.original.as_ref()
    }

    fn wait_key(&self) -> Action {
        Action::WaitKey {
            timeout: self.config.timeout,
        }
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

    fn typing(&mut self) -> Step {
        let (state, screen) = match self.state {
            State::Password => (
                State::Password,
                Screen::SupervisorPassword {
                    typed: self.typed.len(),
                },
            ),
            _ => (
                State::Voucher,
                Screen::VoucherNumber {
                    digits: self.typed.clone(),
                },
            ),
        };
        let action = self.wait_key();
        self.go(state, screen, action)
    }

    fn present_card(&mut self) -> Step {
        let (modes, timeout) = (self.config.modes, self.config.timeout);
        self.go(
            State::WaitCard,
            Screen::PresentCard {
                amount: self.amount(),
                modes,
            },
            Action::WaitCard { modes, timeout },
        )
    }

    /// The card presented must be the original's.
    fn card(&mut self, pan: &Pan, source: CardSource) -> Step {
        if self.original.as_ref().map(|o| &o.pan) != Some(pan) {
            return self.end("this card is not the card of the original sale");
        }
        let amount = self.amount();
        self.go(
            State::Closing(Closing::Online),
            Screen::Processing,
            Action::GoOnline {
                transaction: Transaction::Void,
                amount,
                source,
            },
        )
    }

    /// Feeds one event; returns what to show and do next.
    pub fn on(&mut self, event: Event) -> Step {
        match (self.state.clone(), event) {
            (State::Password | State::Voucher, Event::Key(Key::Digit(d))) => {
                let max = if self.state == State::Password { 12 } else { 6 };
                if self.typed.len() < max {
                    self.typed.push(char::from(b'0' + d.min(9)));
                }
                self.typing()
            }
            (State::Password | State::Voucher, Event::Key(Key::Clear)) => {
                self.typed.pop();
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
                    PasswordCheck::Accepted => {
                        self.state = State::Voucher;
                        self.typing()
                    }
                    PasswordCheck::TryAgain => self.typing(),
                    PasswordCheck::Refused => self.end("wrong supervisor password"),
                }
            }
            (State::Voucher, Event::Key(Key::Enter)) if !self.typed.is_empty() => {
                let voucher = self.typed.parse().unwrap_or(0);
                self.go(
                    State::LookUp,
                    Screen::Processing,
                    Action::LookUpVoucher { voucher },
                )
            }
            (State::LookUp, Event::Original(None)) => self.end(
                "no sale to void with this voucher number in the open batch (or voided already)",
            ),
            (State::LookUp, Event::Original(Some(original))) => {
                let screen = Screen::OriginalSale {
                    voucher: original.voucher,
                    masked_pan: original.pan.to_string(),
                    amount: original.amount,
                };
                self.original = Some(*original);
                let action = self.wait_key();
                self.go(State::Confirm, screen, action)
            }
            (State::Confirm, Event::Key(Key::Enter)) => self.present_card(),
            (
                State::Password | State::Voucher | State::Confirm | State::WaitCard,
                Event::Key(Key::Cancel),
            ) => self.end("cancelled"),
            (
                State::Password | State::Voucher | State::Confirm | State::WaitCard,
                Event::Timeout,
            ) => self.end("no input in time"),
            (State::WaitCard, Event::Swiped(swipe)) => match swipe.tracks().pan() {
                Ok(pan) => self.card(&pan, CardSource::Swipe),
                Err(_) => self.present_card(),
            },
            (State::WaitCard, Event::Inserted) => self.go(
                State::ReadingChip,
                Screen::Processing,
                Action::ReadChip {
                    transaction: Transaction::Void,
                    amount: self.amount(),
                },
            ),
            (State::ReadingChip, Event::ChipRead(Ok(card))) => {
                self.card(&card.pan, CardSource::Chip)
            }
            (State::ReadingChip, Event::ChipRead(Err(_))) => self.present_card(),
            (State::Closing(closing), event) => {
                let (amount, timeout) = (self.amount(), self.config.timeout);
                match closing::on(
                    &closing,
                    event,
                    amount,
                    timeout,
                    "the host cannot be reached; the sale stands",
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
    use crate::flows::ChipCard;
    use crate::flows::OnlineOutcome;
    use crate::slip::Copy;
    use pos_hal::{Swipe, Track2, TrackRead};

    const T2: &str = "6212345678901232=30121011234567890";

    fn keys(flow: &mut VoidFlow, digits: &[u8]) -> Step {
        let mut last = flow.last.clone();
        for d in digits {
            last = flow.on(Event::Key(Key::Digit(*d)));
        }
        last
    }

    fn original() -> OriginalSale {
        OriginalSale {
            voucher: 7,
            pan: Pan::parse("6212345678901232").expect("pan"),
            amount: Amount::from_minor(5000).expect("a"),
        }
    }

    fn at_card() -> VoidFlow {
        let (mut f, _) = VoidFlow::start(VoidConfig::new(Operators::default()));
        keys(&mut f, &[1, 2, 3, 4, 5, 6]);
        f.on(Event::Key(Key::Enter));
        f.on(Event::Saved(Ok(())));
        keys(&mut f, &[7]);
        assert_eq!(
            f.on(Event::Key(Key::Enter)).action,
            Action::LookUpVoucher { voucher: 7 }
        );
        let s = f.on(Event::Original(Some(alloc::boxed::Box::new(original()))));
        assert!(
            s.screen.to_string().contains("621234******1232"),
            "{}",
            s.screen
        );
        assert!(matches!(
            f.on(Event::Key(Key::Enter)).action,
            Action::WaitCard { .. }
        ));
        f
    }

    /// Three wrong supervisor passwords in one void, saved: the next void finds `00` locked
    /// and refuses even the right password.
    #[test]
    fn the_supervisor_is_checked_against_the_operator_table_and_locks_there() {
        let (mut f, _) = VoidFlow::start(VoidConfig::new(Operators::default()));
        let mut saved = None;
        for _ in 0..3 {
            keys(&mut f, &[6, 6, 6, 6, 6, 6]);
            if let Action::SaveOperators { operators } = f.on(Event::Key(Key::Enter)).action {
                saved = Some(operators);
            }
            f.on(Event::Saved(Ok(())));
        }
        let mut table = saved.expect("the count is saved");
        assert_eq!(table.supervisor("123456"), Err(OperatorError::Locked));
        let (mut g, _) = VoidFlow::start(VoidConfig::new(table));
        keys(&mut g, &[1, 2, 3, 4, 5, 6]);
        g.on(Event::Key(Key::Enter));
        let s = g.on(Event::Saved(Ok(())));
        assert!(
            matches!(s.screen, Screen::Ended { .. }),
            "locked: {:?}",
            s.screen
        );
        let (mut h, _) = VoidFlow::start(VoidConfig::new(Operators::default()));
        keys(&mut h, &[1, 2, 3, 4, 5, 6]);
        h.on(Event::Key(Key::Enter));
        let s = h.on(Event::Saved(Err(pos_hal::ErrorKind::Other)));
        assert!(
            matches!(s.screen, Screen::Ended { .. }),
            "an unsaved count goes no further: {:?}",
            s.screen
        );
    }

    #[test]
    fn the_password_is_hidden_and_three_wrong_ones_end_the_void() {
        let (mut f, _) = VoidFlow::start(VoidConfig::new(Operators::default()));
        let s = keys(&mut f, &[9, 9]);
        assert_eq!(s.screen, Screen::SupervisorPassword { typed: 2 });
        assert!(!s.screen.to_string().contains("99"), "{}", s.screen);
        assert!(!alloc::format!("{:?}", VoidConfig::new(Operators::default())).contains("123456"));
        f.on(Event::Key(Key::Enter));
        f.on(Event::Saved(Ok(())));
        keys(&mut f, &[1]);
        f.on(Event::Key(Key::Enter));
        f.on(Event::Saved(Ok(())));
        keys(&mut f, &[1, 2, 3, 4, 5]);
        f.on(Event::Key(Key::Enter));
        let s = f.on(Event::Saved(Ok(())));
        assert_eq!(
            (s.screen, s.action),
            (
                Screen::Ended {
                    reason: "wrong supervisor password"
                },
                Action::Finish
            )
        );
    }

    #[test]
    fn the_same_card_voids_the_original_amount_and_both_copies_print() {
        let mut f = at_card();
        let swipe = Swipe::clear(
            TrackRead::Absent,
            TrackRead::from_parse(Track2::parse(T2)),
            TrackRead::Absent,
        );
        assert_eq!(
            f.on(Event::Swiped(alloc::boxed::Box::new(swipe))).action,
            Action::GoOnline {
                transaction: Transaction::Void,
                amount: Amount::from_minor(5000).expect("a"),
                source: CardSource::Swipe,
            }
        );
        let s = f.on(Event::Online(OnlineOutcome::Approved { auth: "1".into() }));
        assert_eq!(
            s.action,
            Action::Print {
                copy: Copy::Merchant
            }
        );
        f.on(Event::Printed(Ok(())));
        f.on(Event::Key(Key::Enter));
        assert_eq!(f.on(Event::Printed(Ok(()))).action, Action::Finish);
    }

    #[test]
    fn another_card_or_an_unknown_voucher_ends_the_void_without_going_online() {
        let mut f = at_card();
        f.on(Event::Inserted);
        let s = f.on(Event::ChipRead(Ok(ChipCard {
            pan: Pan::parse("4761739001010010").expect("pan"),
            online_pin: false,
            offline_pin: false,
        })));
        assert!(matches!(s.screen, Screen::Ended { .. }), "{:?}", s.screen);
        assert_eq!(s.action, Action::Finish);

        let (mut g, _) = VoidFlow::start(VoidConfig::new(Operators::default()));
        keys(&mut g, &[1, 2, 3, 4, 5, 6]);
        g.on(Event::Key(Key::Enter));
        g.on(Event::Saved(Ok(())));
        keys(&mut g, &[9]);
        g.on(Event::Key(Key::Enter));
        let s = g.on(Event::Original(None));
        assert_eq!(s.action, Action::Finish);
    }

    #[test]
    fn a_decline_is_explained() {
        let mut f = at_card();
        f.on(Event::Inserted);
        f.on(Event::ChipRead(Ok(ChipCard {
            pan: original().pan,
            online_pin: false,
            offline_pin: false,
        })));
        let s = f.on(Event::Online(OnlineOutcome::Declined { rc: "12".into() }));
        assert!(matches!(&s.screen, Screen::Declined { rc, .. } if rc == "12"));
    }
}
