//! The sale (消费): amount typed in cents as on the POS, card by swipe / insert / tap (a chip
//! card swiped is told to insert; fallback to swipe only after failed chip reads), the masked
//! card number confirmed, online PIN when the card asks for it, online authorisation, then two
//! receipts — merchant copy, a prompt to tear it off, cardholder copy — with a printer problem
//! fixed and the copy printed again.

use alloc::string::ToString;
use core::time::Duration;

use pos_hal::{Amount, EntryModes, ErrorKind, Key, Pan};

use super::closing::{self, Closing};
use super::{Action, CardSource, Event, OnlineOutcome, Screen, Step, Transaction};

/// The rules a terminal is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaleConfig {
    /// The largest amount that can be typed.
    pub max_amount: Amount,
    /// The entry modes this terminal has.
    pub modes: EntryModes,
    /// Time to present a card, and to answer each prompt.
    pub timeout: Duration,
    /// Failed chip reads after which a swipe is accepted (as fallback).
    pub chip_attempts: u8,
    /// Offer PBOC electronic cash (电子现金) to chip cards that have it ("use electronic
    /// cash?", default no: the sale goes online).
    pub electronic_cash: bool,
}

impl Default for SaleConfig {
    /// RMB 99,999,999.99 at most, all three modes, 60 s, fallback after 3 failed chip reads.
    fn default() -> Self {
        Self {
            max_amount: Amount::from_minor(9_999_999_999).unwrap_or(Amount::MAX),
            modes: EntryModes::ALL,
            timeout: Duration::from_secs(60),
            chip_attempts: 3,
            electronic_cash: true,
        }
    }
}

impl SaleConfig {
    /// With the largest amount given.
    pub fn with_max_amount(mut self, max: Amount) -> Self {
        self.max_amount = max;
        self
    }
    /// With the entry modes given.
    pub fn with_modes(mut self, modes: EntryModes) -> Self {
        self.modes = modes;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Amount,
    WaitCard,
    ReadingChip {
        contactless: bool,
    },
    /// The host said the PIN was wrong (55) on a chip card: its transaction ended with the
    /// cryptogram, so the kernel runs again for a new one before the PIN is asked again.
    RereadingChip,
    /// The cardholder picks one of the chip's applications.
    ChoosingApplication {
        contactless: bool,
        count: usize,
    },
    /// Asking the inserted card whether it offers electronic cash.
    CheckingEc,
    /// "Use electronic cash?" on screen.
    AskingEc,
    Confirm {
        pan: Pan,
        source: CardSource,
        pin: bool,
    },
    Pin {
        source: CardSource,
    },
    Closing(Closing),
}

/// The card-present flow: a sale ([`SaleFlow::start`]) or a balance inquiry
/// ([`SaleFlow::balance`]: no amount, PIN always, the balance shown, nothing printed). Feed it
/// every [`Event`] and perform the [`Action`] of each [`Step`] until [`Action::Finish`].
///
/// ```
/// use pos_hal::Key;
/// use pos_terminal::flows::{Action, Event, SaleConfig, SaleFlow, Screen};
/// let (mut sale, _) = SaleFlow::start(SaleConfig::default());
/// for d in [5, 0, 0, 0] {
///     sale.on(Event::Key(Key::Digit(d)));
/// }
/// let step = sale.on(Event::Key(Key::Enter));
/// assert!(matches!(step.screen, Screen::PresentCard { amount, .. } if amount.to_string() == "50.00"));
/// assert!(matches!(step.action, Action::WaitCard { .. }));
/// ```
#[derive(Debug, Clone)]
pub struct SaleFlow {
    transaction: Transaction,
    config: SaleConfig,
    state: State,
    amount: Amount,
    chip_failures: u8,
    /// The card the online PIN was asked for (a wrong PIN, 55, asks again).
    pin_card: Option<(Pan, CardSource)>,
    wrong_pins: u8,
    last: Step,
}

/// Wrong online PINs (response code 55) after which the sale is declined for good.
pub const PIN_TRIES: u8 = 3;

impl SaleFlow {
    /// A new sale, asking for the amount.
    pub fn start(config: SaleConfig) -> (Self, Step) {
        let last = Step {
            screen: Screen::Amount {
                amount: Amount::ZERO,
            },
            action: Action::WaitKey {
                timeout: config.timeout,
            },
        };
        let flow = Self {
            transaction: Transaction::Sale,
            config,
            state: State::Amount,
            amount: Amount::ZERO,
            chip_failures: 0,
            pin_card: None,
            wrong_pins: 0,
            last: last.clone(),
        };
        (flow, last)
    }

    /// A balance inquiry, asking for the card.
    ///
    /// ```
    /// use pos_terminal::flows::{Action, SaleConfig, SaleFlow, Screen};
    /// let (_, step) = SaleFlow::balance(SaleConfig::default());
    /// assert!(matches!(step.screen, Screen::PresentCard { .. }));
    /// assert!(matches!(step.action, Action::WaitCard { .. }));
    /// ```
    pub fn balance(config: SaleConfig) -> (Self, Step) {
        let (mut flow, _) = Self::start(config);
        flow.transaction = Transaction::Balance;
        let step = flow.present_card(false);
        (flow, step)
    }

    /// A pre-authorisation (预授权): as a sale, but the host only holds the amount.
    pub fn preauth(config: SaleConfig) -> (Self, Step) {
        let (mut flow, step) = Self::start(config);
        flow.transaction = Transaction::PreAuth;
        (flow, step)
    }

    /// What this flow performs.
    pub fn transaction(&self) -> Transaction {
        self.transaction
    }

    /// The card is read: "processing" while the runner reads the chip.
    fn reading_chip(&mut self, contactless: bool) -> Step {
        let read = self.read_chip();
        self.go(State::ReadingChip { contactless }, Screen::Processing, read)
    }

    fn read_chip(&self) -> Action {
        Action::ReadChip {
            transaction: self.transaction,
            amount: self.amount,
        }
    }

    /// The amount of the sale.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    fn wait_key(&self) -> Action {
        Action::WaitKey {
            timeout: self.config.timeout,
        }
    }

    fn fallback(&self) -> bool {
        self.chip_failures >= self.config.chip_attempts
    }

    /// Modes accepted now: no swipe for chip cards until the chip failed often enough.
    fn modes(&self, chip_card_swiped: bool) -> EntryModes {
        if chip_card_swiped && !self.fallback() {
            self.config.modes.without(EntryModes::SWIPE)
        } else {
            self.config.modes
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

    fn present_card(&mut self, chip_card_swiped: bool) -> Step {
        let modes = self.modes(chip_card_swiped);
        let screen = if chip_card_swiped && !self.fallback() {
            Screen::InsertChip
        } else {
            Screen::PresentCard {
                amount: self.amount,
                modes,
            }
        };
        self.go(
            State::WaitCard,
            screen,
            Action::WaitCard {
                modes,
                timeout: self.config.timeout,
            },
        )
    }

    fn confirm(&mut self, pan: Pan, source: CardSource, pin: bool) -> Step {
        // CUP balance inquiries always carry the PIN.
        let pin = pin || self.transaction == Transaction::Balance;
        let screen = Screen::ConfirmCard {
            masked_pan: pan.to_string(),
            amount: self.amount,
        };
        let action = self.wait_key();
        self.go(State::Confirm { pan, source, pin }, screen, action)
    }

    fn online(&mut self, source: CardSource) -> Step {
        let amount = self.amount;
        self.go(
            State::Closing(Closing::Online),
            Screen::Processing,
            Action::GoOnline {
                transaction: self.transaction,
                amount,
                source,
            },
        )
    }

    /// Feeds one event; returns what to show and do next. Events that mean nothing in the
    /// current state repeat the current step.
    pub fn on(&mut self, event: Event) -> Step {
        match (self.state.clone(), event) {
            (State::Amount, Event::Key(Key::Digit(d))) => {
                if let Ok(a) = self.amount.push_digit(d)
                    && a <= self.config.max_amount
                {
                    self.amount = a;
                }
                let (amount, action) = (self.amount, self.wait_key());
                self.go(State::Amount, Screen::Amount { amount }, action)
            }
            (State::Amount, Event::Key(Key::Clear)) => {
                self.amount = self.amount.pop_digit();
                let (amount, action) = (self.amount, self.wait_key());
                self.go(State::Amount, Screen::Amount { amount }, action)
            }
            (State::Amount, Event::Key(Key::Enter)) if self.amount > Amount::ZERO => {
                self.present_card(false)
            }
            (_, Event::Key(Key::Cancel))
                if matches!(
                    self.state,
                    State::Amount | State::WaitCard | State::Confirm { .. }
                ) =>
            {
                self.end("cancelled")
            }
            (State::Amount | State::WaitCard, Event::Timeout) => self.end("no input in time"),

            (State::WaitCard, Event::Swiped(swipe)) => {
                let tracks = swipe.tracks();
                let (Ok(pan), Some(service)) = (tracks.pan(), tracks.service_code()) else {
                    // Unreadable: swipe again.
                    return self.present_card(false);
                };
                if service.is_chip_card() && !self.fallback() {
                    return self.present_card(true);
                }
                let source = if self.fallback() {
                    CardSource::Fallback
                } else {
                    CardSource::Swipe
                };
                self.confirm(pan, source, service.requires_pin())
            }
            (State::WaitCard, Event::Inserted)
                if self.transaction == Transaction::Sale && self.config.electronic_cash =>
            {
                let amount = self.amount;
                self.go(
                    State::CheckingEc,
                    Screen::Processing,
                    Action::CheckElectronicCash { amount },
                )
            }
            (State::CheckingEc, Event::ElectronicCash(Some(balance))) => {
                let (amount, wait) = (self.amount, self.wait_key());
                self.go(
                    State::AskingEc,
                    Screen::UseElectronicCash { amount, balance },
                    wait,
                )
            }
            // The card has none, or the answer is no (the default, as on the POS): online.
            (State::CheckingEc, Event::ElectronicCash(None))
            | (
                State::AskingEc,
                Event::Key(Key::Digit(0) | Key::Enter | Key::Clear) | Event::Timeout,
            ) => self.reading_chip(false),
            (State::AskingEc, Event::Key(Key::Digit(1))) => {
                self.transaction = Transaction::ElectronicCash;
                self.reading_chip(false)
            }
            (State::AskingEc, Event::Key(Key::Cancel)) => self.end("cancelled"),
            (State::WaitCard, Event::Inserted) => self.reading_chip(false),
            (State::WaitCard, Event::Tapped) => self.reading_chip(true),
            (State::ReadingChip { contactless }, Event::ChipRead(Ok(card))) => {
                let source = if contactless {
                    CardSource::Contactless
                } else {
                    CardSource::Chip
                };
                self.confirm(card.pan, source, card.online_pin || card.offline_pin)
            }
            (State::ReadingChip { contactless }, Event::Applications(labels))
                if !labels.is_empty() =>
            {
                let wait = self.wait_key();
                self.go(
                    State::ChoosingApplication {
                        contactless,
                        count: labels.len(),
                    },
                    Screen::SelectApplication { labels },
                    wait,
                )
            }
            (State::ChoosingApplication { contactless, count }, Event::Key(key)) => {
                let index = match key {
                    Key::Enter => 0,
                    Key::Digit(d) if (1..=count).contains(&usize::from(d)) => usize::from(d) - 1,
                    Key::Cancel => return self.end("cancelled"),
                    _ => return self.last.clone(),
                };
                self.go(
                    State::ReadingChip { contactless },
                    Screen::Processing,
                    Action::SelectApplication { index },
                )
            }
            (State::ChoosingApplication { .. }, Event::Timeout) => {
                self.end("no application chosen in time")
            }
            (State::ReadingChip { .. }, Event::Applications(_) | Event::ChipRead(Err(_))) => {
                self.chip_failures = self.chip_failures.saturating_add(1);
                self.present_card(true)
            }

            (State::Confirm { pan, source, pin }, Event::Key(Key::Enter)) => {
                if pin {
                    let amount = self.amount;
                    self.pin_card = Some((pan.clone(), source));
                    self.go(
                        State::Pin { source },
                        Screen::EnterPin { amount },
                        Action::GetPin { pan },
                    )
                } else {
                    self.online(source)
                }
            }
            (State::Pin { source }, Event::Pin(Ok(_))) => self.online(source),
            // The card itself said the offline PIN was wrong: type it again.
            (State::Pin { source }, Event::PinRejected { tries_left }) => {
                let amount = self.amount;
                let Some((pan, _)) = self.pin_card.clone() else {
                    return self.last.clone();
                };
                self.go(
                    State::Pin { source },
                    Screen::WrongPin { amount, tries_left },
                    Action::GetPin { pan },
                )
            }
            (State::Pin { .. }, Event::Pin(Err(ErrorKind::Cancelled))) => {
                self.end("PIN entry cancelled")
            }
            (State::Pin { .. }, Event::Pin(Err(ErrorKind::Timeout))) => self.end("no PIN in time"),
            (State::Pin { .. }, Event::Pin(Err(_))) => self.end("the PIN pad failed"),

            (
                State::Closing(Closing::Online),
                Event::Online(OnlineOutcome::Balance { balance }),
            ) => {
                let wait = self.wait_key();
                self.go(
                    State::Closing(Closing::Acknowledge),
                    Screen::Balance { balance },
                    wait,
                )
            }
            // A wrong online PIN on a contact chip card: its transaction ended with its
            // cryptogram (the runner completed it with the decline), so the kernel runs again
            // on the card still inserted, then the PIN is asked again. (A tapped card left the
            // field: the decline stands.)
            (State::Closing(Closing::Online), Event::Online(OnlineOutcome::Declined { rc }))
                if rc == "55"
                    && self.wrong_pins + 1 < PIN_TRIES
                    && matches!(self.pin_card, Some((_, CardSource::Chip))) =>
            {
                self.wrong_pins += 1;
                let amount = self.amount;
                let read = self.read_chip();
                self.go(
                    State::RereadingChip,
                    Screen::WrongPin {
                        amount,
                        tries_left: PIN_TRIES - self.wrong_pins,
                    },
                    read,
                )
            }
            (State::RereadingChip, Event::ChipRead(Ok(card)))
                if self
                    .pin_card
                    .as_ref()
                    .is_some_and(|(pan, _)| *pan == card.pan) =>
            {
                let amount = self.amount;
                self.go(
                    State::Pin {
                        source: CardSource::Chip,
                    },
                    Screen::WrongPin {
                        amount,
                        tries_left: PIN_TRIES - self.wrong_pins,
                    },
                    Action::GetPin { pan: card.pan },
                )
            }
            // Another card, or the chip no longer reads: the wrong-PIN decline stands.
            (State::RereadingChip, Event::ChipRead(_)) => {
                let (cause, action) = crate::online::explain("55");
                let wait = self.wait_key();
                self.go(
                    State::Closing(Closing::Acknowledge),
                    Screen::Declined {
                        rc: "55".into(),
                        cause,
                        action,
                    },
                    wait,
                )
            }
            // A wrong online PIN on a stripe card: the cardholder tries again.
            (State::Closing(Closing::Online), Event::Online(OnlineOutcome::Declined { rc }))
                if rc == "55"
                    && self.wrong_pins + 1 < PIN_TRIES
                    && matches!(
                        self.pin_card,
                        Some((_, CardSource::Swipe | CardSource::Fallback))
                    ) =>
            {
                self.wrong_pins += 1;
                let Some((pan, source)) = self.pin_card.clone() else {
                    return self.last.clone();
                };
                let amount = self.amount;
                self.go(
                    State::Pin { source },
                    Screen::WrongPin {
                        amount,
                        tries_left: PIN_TRIES - self.wrong_pins,
                    },
                    Action::GetPin { pan },
                )
            }
            (State::Closing(closing), event) => {
                let (amount, timeout) = (self.amount, self.config.timeout);
                match closing::on(
                    &closing,
                    event,
                    amount,
                    timeout,
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

/// The response-code texts speak of requests; on the sale screen "declined" reads better for
/// the generic case.
pub(super) fn decline_cause(cause: &'static str) -> &'static str {
    if cause == "the acquirer refused the request" {
        "declined by the card issuer or acquirer"
    } else {
        cause
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::ChipCard;
    use crate::slip::Copy;
    use alloc::string::String;
    use pos_hal::{Swipe, Track2, TrackRead};

    /// The card goes in; it offers no electronic cash.
    fn inserted(flow: &mut SaleFlow) -> Step {
        let s = flow.on(Event::Inserted);
        if matches!(s.action, Action::CheckElectronicCash { .. }) {
            return flow.on(Event::ElectronicCash(None));
        }
        s
    }

    #[test]
    fn a_card_with_electronic_cash_is_asked_and_1_pays_from_it_while_0_goes_online() {
        let balance = Amount::from_minor(10_000).expect("amount");
        for (key, expected) in [(1, Transaction::ElectronicCash), (0, Transaction::Sale)] {
            let (mut f, _) = SaleFlow::start(SaleConfig::default());
            typed(&mut f, &[3, 0, 0, 0]);
            f.on(Event::Key(Key::Enter));
            let s = f.on(Event::Inserted);
            assert!(matches!(s.action, Action::CheckElectronicCash { .. }));
            let s = f.on(Event::ElectronicCash(Some(balance)));
            assert!(
                matches!(s.screen, Screen::UseElectronicCash { .. }),
                "{s:?}"
            );
            assert!(alloc::format!("{}", s.screen).contains("100.00"));
            let s = f.on(Event::Key(Key::Digit(key)));
            assert!(
                matches!(s.action, Action::ReadChip { transaction, .. } if transaction == expected),
                "{s:?}"
            );
        }
        // A balance inquiry is never offered electronic cash.
        let (mut b, _) = SaleFlow::balance(SaleConfig::default());
        assert!(matches!(
            b.on(Event::Inserted).action,
            Action::ReadChip { .. }
        ));
    }

    #[test]
    fn a_card_with_several_applications_lets_the_cardholder_choose() {
        let (mut b, _) = SaleFlow::balance(SaleConfig::default());
        assert!(matches!(
            b.on(Event::Inserted).action,
            Action::ReadChip { .. }
        ));
        let labels = alloc::vec![
            String::from("UnionPay Debit"),
            String::from("UnionPay Credit")
        ];
        let s = b.on(Event::Applications(labels));
        assert!(
            matches!(s.screen, Screen::SelectApplication { .. }),
            "{s:?}"
        );
        let text = alloc::format!("{}", s.screen);
        assert!(
            text.contains("1 UnionPay Debit") && text.contains("2 UnionPay Credit"),
            "{text}"
        );
        assert_eq!(
            b.on(Event::Key(Key::Digit(3))).screen,
            s.screen,
            "no third application"
        );
        assert_eq!(
            b.on(Event::Key(Key::Digit(2))).action,
            Action::SelectApplication { index: 1 }
        );
        // The card refused the choice (blocked): the list comes back without it.
        let s = b.on(Event::Applications(alloc::vec![String::from(
            "UnionPay Debit"
        )]));
        assert!(matches!(s.screen, Screen::SelectApplication { .. }));
        assert_eq!(
            b.on(Event::Key(Key::Enter)).action,
            Action::SelectApplication { index: 0 },
            "Enter takes the first"
        );
        let pan = Pan::parse("6212345678901232").expect("pan");
        let s = b.on(Event::ChipRead(Ok(ChipCard {
            pan,
            online_pin: true,
            offline_pin: false,
        })));
        assert!(matches!(s.screen, Screen::ConfirmCard { .. }), "{s:?}");
        let (mut c, _) = SaleFlow::balance(SaleConfig::default());
        c.on(Event::Inserted);
        c.on(Event::Applications(alloc::vec![String::from("A")]));
        assert!(matches!(
            c.on(Event::Key(Key::Cancel)).screen,
            Screen::Ended { .. }
        ));
    }

    fn typed(flow: &mut SaleFlow, digits: &[u8]) {
        for d in digits {
            flow.on(Event::Key(Key::Digit(*d)));
        }
    }

    fn swipe(track2: &str) -> Event {
        Event::Swiped(alloc::boxed::Box::new(Swipe::clear(
            TrackRead::Absent,
            TrackRead::from_parse(Track2::parse(track2)),
            TrackRead::Absent,
        )))
    }

    /// A chip card (service code 220): must be inserted.
    const CHIP_T2: &str = "6212345678901232=30122201234567890";
    /// A stripe-only card (service code 101): swipe is fine, no PIN required.
    const STRIPE_T2: &str = "6212345678901232=30121011234567890";

    #[test]
    fn a_wrong_pin_on_a_chip_card_runs_the_kernel_again_then_asks_the_pin_again() {
        let pan = Pan::parse("6212345678901232").expect("pan");
        let card = || {
            Event::ChipRead(Ok(ChipCard {
                pan: Pan::parse("6212345678901232").expect("pan"),
                online_pin: true,
                offline_pin: false,
            }))
        };
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut f, &[1, 0, 0]);
        f.on(Event::Key(Key::Enter));
        inserted(&mut f);
        f.on(card());
        f.on(Event::Key(Key::Enter));
        f.on(Event::Pin(Ok(true)));
        let s = f.on(Event::Online(OnlineOutcome::Declined { rc: "55".into() }));
        assert!(
            matches!(s.screen, Screen::WrongPin { tries_left: 2, .. }),
            "{s:?}"
        );
        assert!(
            matches!(s.action, Action::ReadChip { .. }),
            "a new cryptogram first"
        );
        let s = f.on(card());
        assert_eq!(s.action, Action::GetPin { pan });
        let s = f.on(Event::Pin(Ok(true)));
        assert!(matches!(
            s.action,
            Action::GoOnline {
                source: CardSource::Chip,
                ..
            }
        ));
        // Another card in the reader the second time: the decline stands.
        f.on(Event::Online(OnlineOutcome::Declined { rc: "55".into() }));
        let s = f.on(Event::ChipRead(Ok(ChipCard {
            pan: Pan::parse("4761739001010010").expect("pan"),
            online_pin: true,
            offline_pin: false,
        })));
        assert!(matches!(s.screen, Screen::Declined { ref rc, .. } if rc == "55"));
    }

    #[test]
    fn a_wrong_pin_on_a_stripe_card_asks_again_twice_then_declines() {
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut f, &[1, 0, 0]);
        f.on(Event::Key(Key::Enter));
        // Service code 120: PIN required.
        f.on(swipe("6212345678901232=30121201234567890"));
        assert!(matches!(
            f.on(Event::Key(Key::Enter)).action,
            Action::GetPin { .. }
        ));
        assert!(matches!(
            f.on(Event::Pin(Ok(true))).action,
            Action::GoOnline { .. }
        ));
        for left in [2, 1] {
            let s = f.on(Event::Online(OnlineOutcome::Declined { rc: "55".into() }));
            assert!(
                matches!(s.screen, Screen::WrongPin { tries_left, .. } if tries_left == left),
                "{:?}",
                s.screen
            );
            assert!(matches!(s.action, Action::GetPin { .. }));
            assert!(matches!(
                f.on(Event::Pin(Ok(true))).action,
                Action::GoOnline { .. }
            ));
        }
        let s = f.on(Event::Online(OnlineOutcome::Declined { rc: "55".into() }));
        assert!(matches!(s.screen, Screen::Declined { ref rc, .. } if rc == "55"));
    }

    #[test]
    fn amount_entry_works_as_on_the_pos() {
        let (mut f, _) = SaleFlow::start(
            SaleConfig::default().with_max_amount(Amount::from_minor(99_999).expect("a")),
        );
        typed(&mut f, &[5, 0, 0, 0]);
        assert_eq!(f.amount().to_string(), "50.00");
        let s = f.on(Event::Key(Key::Clear));
        assert_eq!(
            s.screen,
            Screen::Amount {
                amount: Amount::from_minor(500).expect("a")
            }
        );
        typed(&mut f, &[0, 0]); // 500.00: under the 999.99 maximum
        typed(&mut f, &[9]); // 5000.09 would be over it: the key is ignored
        assert_eq!(f.amount().to_string(), "500.00");
        // Enter with zero does nothing.
        let (mut z, _) = SaleFlow::start(SaleConfig::default());
        assert!(matches!(
            z.on(Event::Key(Key::Enter)).screen,
            Screen::Amount { .. }
        ));
    }

    #[test]
    fn a_swiped_chip_card_is_told_to_insert_and_the_chip_path_prints_two_copies() {
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut f, &[1, 2, 3, 4]);
        f.on(Event::Key(Key::Enter));
        let s = f.on(swipe(CHIP_T2));
        assert_eq!(s.screen, Screen::InsertChip);
        assert!(
            matches!(s.action, Action::WaitCard { modes, .. } if !modes.contains(EntryModes::SWIPE))
        );
        assert_eq!(
            inserted(&mut f).action,
            Action::ReadChip {
                transaction: Transaction::Sale,
                amount: Amount::from_minor(1234).expect("amount")
            }
        );
        let pan = Pan::parse("6212345678901232").expect("pan");
        let s = f.on(Event::ChipRead(Ok(ChipCard {
            pan: pan.clone(),
            online_pin: true,
            offline_pin: false,
        })));
        assert!(
            matches!(&s.screen, Screen::ConfirmCard { masked_pan, .. } if masked_pan == "621234******1232")
        );
        assert_eq!(f.on(Event::Key(Key::Enter)).action, Action::GetPin { pan });
        let s = f.on(Event::Pin(Ok(true)));
        assert!(matches!(
            s.action,
            Action::GoOnline {
                source: CardSource::Chip,
                ..
            }
        ));
        let s = f.on(Event::Online(OnlineOutcome::Approved {
            auth: "123456".into(),
        }));
        assert!(matches!(s.screen, Screen::Approved { .. }));
        assert_eq!(
            s.action,
            Action::Print {
                copy: Copy::Merchant
            }
        );
        assert_eq!(f.on(Event::Printed(Ok(()))).screen, Screen::TearReceipt);
        assert_eq!(
            f.on(Event::Key(Key::Enter)).action,
            Action::Print {
                copy: Copy::Cardholder
            }
        );
        assert_eq!(f.on(Event::Printed(Ok(()))).action, Action::Finish);
    }

    #[test]
    fn fallback_to_swipe_only_after_the_chip_failed_enough_times() {
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut f, &[1, 0, 0]);
        f.on(Event::Key(Key::Enter));
        for attempt in 1..=3 {
            inserted(&mut f);
            let s = f.on(Event::ChipRead(Err(ErrorKind::Protocol)));
            let swipe_ok = matches!(s.action, Action::WaitCard { modes, .. } if modes.contains(EntryModes::SWIPE));
            assert_eq!(swipe_ok, attempt == 3, "attempt {attempt}");
        }
        let s = f.on(swipe(CHIP_T2));
        assert!(matches!(s.screen, Screen::ConfirmCard { .. }));
        f.on(Event::Key(Key::Enter));
        let s = f.on(Event::Pin(Ok(true)));
        assert!(matches!(
            s.action,
            Action::GoOnline {
                source: CardSource::Fallback,
                ..
            }
        ));
    }

    #[test]
    fn a_stripe_card_without_pin_goes_online_after_confirmation() {
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut f, &[2, 0, 0]);
        f.on(Event::Key(Key::Enter));
        assert!(matches!(
            f.on(swipe(STRIPE_T2)).screen,
            Screen::ConfirmCard { .. }
        ));
        let s = f.on(Event::Key(Key::Enter));
        assert!(
            matches!(
                s.action,
                Action::GoOnline {
                    source: CardSource::Swipe,
                    ..
                }
            ),
            "{s:?}"
        );
    }

    #[test]
    fn paper_out_between_copies_prints_the_copy_again_once_fixed() {
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut f, &[5]);
        f.on(Event::Key(Key::Enter));
        f.on(swipe(STRIPE_T2));
        f.on(Event::Key(Key::Enter));
        f.on(Event::Online(OnlineOutcome::Approved {
            auth: "000001".into(),
        }));
        f.on(Event::Printed(Ok(())));
        f.on(Event::Key(Key::Enter));
        let s = f.on(Event::Printed(Err(ErrorKind::PaperOut)));
        assert_eq!(
            s.screen,
            Screen::PrinterProblem {
                copy: Copy::Cardholder,
                fault: ErrorKind::PaperOut
            }
        );
        assert_eq!(
            f.on(Event::Key(Key::Enter)).action,
            Action::Print {
                copy: Copy::Cardholder
            }
        );
        assert_eq!(f.on(Event::Printed(Ok(()))).action, Action::Finish);
    }

    #[test]
    fn declines_and_unknown_outcomes_are_explained_and_end_the_flow() {
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut f, &[5]);
        f.on(Event::Key(Key::Enter));
        f.on(swipe(STRIPE_T2));
        f.on(Event::Key(Key::Enter));
        let s = f.on(Event::Online(OnlineOutcome::Declined { rc: "51".into() }));
        assert!(matches!(&s.screen, Screen::Declined { rc, .. } if rc == "51"));
        assert_eq!(f.on(Event::Key(Key::Enter)).action, Action::Finish);

        let (mut g, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut g, &[5]);
        g.on(Event::Key(Key::Enter));
        g.on(swipe(STRIPE_T2));
        g.on(Event::Key(Key::Enter));
        assert_eq!(
            g.on(Event::Online(OnlineOutcome::Unknown)).screen,
            Screen::Reversing
        );
    }

    #[test]
    fn cancel_and_timeouts_end_without_a_transaction() {
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        assert!(matches!(
            f.on(Event::Key(Key::Cancel)).screen,
            Screen::Ended { .. }
        ));
        let (mut g, _) = SaleFlow::start(SaleConfig::default());
        typed(&mut g, &[5]);
        g.on(Event::Key(Key::Enter));
        let s = g.on(Event::Timeout);
        assert_eq!(
            (s.screen, s.action),
            (
                Screen::Ended {
                    reason: "no input in time"
                },
                Action::Finish
            )
        );
        // Events out of place change nothing.
        let (mut h, first) = SaleFlow::start(SaleConfig::default());
        assert_eq!(h.on(Event::Printed(Ok(()))), first);
    }

    #[test]
    fn a_balance_inquiry_asks_for_the_pin_always_and_shows_the_balance_without_printing() {
        let (mut f, first) = SaleFlow::balance(SaleConfig::default());
        assert_eq!(f.transaction(), Transaction::Balance);
        assert!(
            first.screen.to_string().starts_with("请 刷卡"),
            "{}",
            first.screen
        );
        assert!(matches!(
            f.on(swipe(STRIPE_T2)).screen,
            Screen::ConfirmCard { .. }
        ));
        // Service code 101 needs no PIN for a sale; a balance inquiry asks all the same.
        assert!(matches!(
            f.on(Event::Key(Key::Enter)).action,
            Action::GetPin { .. }
        ));
        assert_eq!(
            f.on(Event::Pin(Ok(true))).action,
            Action::GoOnline {
                transaction: Transaction::Balance,
                amount: Amount::ZERO,
                source: CardSource::Swipe,
            }
        );
        let balance = Some(crate::requests::AccountBalance {
            amount: Amount::from_minor(1_000_000).expect("a"),
            overdrawn: false,
        });
        let s = f.on(Event::Online(OnlineOutcome::Balance { balance }));
        assert_eq!(s.screen, Screen::Balance { balance });
        assert!(s.screen.to_string().contains("10000.00"), "{}", s.screen);
        assert_eq!(f.on(Event::Key(Key::Enter)).action, Action::Finish);
    }

    #[test]
    fn giving_up_on_the_merchant_copy_reverses_the_approval_but_not_on_the_cardholder_copy() {
        let approved = |f: &mut SaleFlow| {
            typed(f, &[1]);
            f.on(Event::Key(Key::Enter));
            f.on(swipe(STRIPE_T2));
            f.on(Event::Key(Key::Enter));
            f.on(Event::Online(OnlineOutcome::Approved { auth: "1".into() }))
        };
        let (mut f, _) = SaleFlow::start(SaleConfig::default());
        approved(&mut f);
        let s = f.on(Event::Printed(Err(ErrorKind::PaperOut)));
        assert!(matches!(s.screen, Screen::PrinterProblem { .. }));
        assert_eq!(f.on(Event::Key(Key::Cancel)).action, Action::Abandon);
        let s = f.on(Event::Online(OnlineOutcome::Unknown));
        assert_eq!(s.screen, Screen::Reversing);
        assert_eq!(f.on(Event::Key(Key::Enter)).action, Action::Finish);

        let (mut g, _) = SaleFlow::start(SaleConfig::default());
        approved(&mut g);
        g.on(Event::Printed(Ok(())));
        g.on(Event::Key(Key::Enter));
        g.on(Event::Printed(Err(ErrorKind::PaperOut)));
        let s = g.on(Event::Key(Key::Cancel));
        assert_eq!((s.screen, s.action), (Screen::Done, Action::Finish));
    }
}
