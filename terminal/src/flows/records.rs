//! Records query (交易查询): the open batch's transactions one by one, newest first — Enter
//! (or ↓) shows the next older one, Clear (or ↑) goes back, Cancel leaves. Nothing is sent
//! and nothing printed; the card shows masked.

use alloc::vec::Vec;
use core::time::Duration;

use pos_hal::Key;

use super::{Action, Event, Screen, Step};
use crate::records::RecordSummary;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    LookingUp,
    Browsing,
    Done,
}

/// The records query flow.
#[derive(Debug, Clone)]
pub struct RecordsFlow {
    state: State,
    timeout: Duration,
    records: Vec<RecordSummary>,
    at: usize,
    last: Step,
}

impl RecordsFlow {
    /// Starts: the runner reads the open batch from the journal.
    ///
    /// ```
    /// use pos_terminal::flows::{Action, RecordsFlow};
    /// let (_, step) = RecordsFlow::start(core::time::Duration::from_secs(60));
    /// assert_eq!(step.action, Action::LookUpRecords);
    /// ```
    pub fn start(timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::Processing,
            action: Action::LookUpRecords,
        };
        let flow = Self {
            state: State::LookingUp,
            timeout,
            records: Vec::new(),
            at: 0,
            last: step.clone(),
        };
        (flow, step)
    }

    fn go(&mut self, state: State, screen: Screen, action: Action) -> Step {
        self.state = state;
        self.last = Step { screen, action };
        self.last.clone()
    }

    fn show(&mut self) -> Step {
        let wait = Action::WaitKey {
            timeout: self.timeout,
        };
        let screen = match self.records.get(self.at) {
            Some(record) => Screen::Record {
                record: alloc::boxed::Box::new(record.clone()),
                position: self.at + 1,
                count: self.records.len(),
            },
            None => Screen::NoRecords,
        };
        self.go(State::Browsing, screen, wait)
    }

    fn done(&mut self) -> Step {
        self.go(State::Done, Screen::Done, Action::Finish)
    }

    /// Feeds one event.
    pub fn on(&mut self, event: Event) -> Step {
        match (self.state, event) {
            (State::LookingUp, Event::Records(mut records)) => {
                records.reverse();
                self.records = records;
                self.at = 0;
                self.show()
            }
            (State::Browsing, Event::Key(Key::Enter | Key::Down)) => {
                if self.at + 1 < self.records.len() {
                    self.at += 1;
                    self.show()
                } else {
                    self.done()
                }
            }
            (State::Browsing, Event::Key(Key::Clear | Key::Up)) => {
                self.at = self.at.saturating_sub(1);
                self.show()
            }
            (State::Browsing, Event::Key(Key::Cancel) | Event::Timeout) => self.done(),
            _ => self.last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Standing;
    use pos_hal::Amount;

    fn summary(voucher: u32) -> RecordSummary {
        RecordSummary {
            voucher,
            batch: 1,
            kind: "消费 SALE",
            entry: "刷卡 S",
            card: "621234******1232".into(),
            amount: Amount::from_minor(100).expect("test value"),
            standing: Standing::Approved,
            rrn: "1".into(),
            auth: "2".into(),
            created: None,
        }
    }

    fn voucher(step: &Step) -> Option<u32> {
        match &step.screen {
            Screen::Record { record, .. } => Some(record.voucher),
            _ => None,
        }
    }

    #[test]
    fn newest_first_then_older_and_back() {
        let (mut f, _) = RecordsFlow::start(Duration::from_secs(60));
        let s = f.on(Event::Records(alloc::vec![
            summary(1),
            summary(2),
            summary(3)
        ]));
        assert_eq!(voucher(&s), Some(3));
        assert!(alloc::format!("{}", s.screen).contains("1/3"));
        assert_eq!(voucher(&f.on(Event::Key(Key::Enter))), Some(2));
        assert_eq!(voucher(&f.on(Event::Key(Key::Down))), Some(1));
        assert_eq!(voucher(&f.on(Event::Key(Key::Clear))), Some(2));
        f.on(Event::Key(Key::Enter));
        assert_eq!(f.on(Event::Key(Key::Enter)).action, Action::Finish);
    }

    #[test]
    fn an_empty_batch_says_so_and_cancel_leaves() {
        let (mut f, _) = RecordsFlow::start(Duration::from_secs(60));
        let s = f.on(Event::Records(Vec::new()));
        assert_eq!(s.screen, Screen::NoRecords);
        assert_eq!(f.on(Event::Key(Key::Cancel)).action, Action::Finish);
    }
}
