//! The terminal core's online layer (`pos_terminal::online`) with the SQLite journal, against
//! host-sim over TCP: journal before send, answers checked, unknown outcomes reversed before the
//! next request, nothing charged twice — host-sim's ledger is the referee.

use std::sync::atomic::Ordering;
use std::time::Duration;

use pos_hal::{
    Amount, CancelToken, InlineBytes, KeySlot, KeyStore, MacAlgorithm, Pan, PinBlockFormat, Secret,
};
use pos_platform::{SqliteJournal, TcpHostLink};
use pos_sim::acquirer::{HostConfig, HostSim};
use pos_terminal::crypto::{KeyBlockLayout, SecretKey, SoftwareKeyStore};
use pos_terminal::host::HostLink;
use pos_terminal::iso8583::{Frame, Message, Mti};
use pos_terminal::journal::{Journal, Outcome, ReversalReason};
use pos_terminal::online::{Acquirer, AnswerFault, Online, OnlineError};

const TID: &str = "12345678";
const MID: &str = "123456789012345";
const PAN: &str = "6212345678901232";
const FRAME: Frame = Frame::new(
    [0x60, 0x00, 0x03, 0x00, 0x00],
    [0x60, 0x31, 0x00, 0x31, 0x00, 0x00],
);

struct Pos {
    link: TcpHostLink,
    journal: SqliteJournal,
    keys: SoftwareKeyStore,
    acquirer: Acquirer,
}

fn tmk() -> SecretKey {
    SecretKey::tdes(&hex::decode("70F2A84CCBC2AE8625CBB0F2C22AB923").expect("hex")).expect("tmk")
}

impl Pos {
    fn new(host: &HostSim, journal: SqliteJournal) -> Self {
        let mut keys = SoftwareKeyStore::default();
        keys.install(KeySlot::Master(0), tmk()).expect("TMK");
        Self {
            link: TcpHostLink::new(host.addr().to_string()),
            journal,
            keys,
            acquirer: Acquirer::new(FRAME, MacAlgorithm::CupEcb, TID, MID)
                .with_timeout(Duration::from_millis(1_500)),
        }
    }

    /// Sign-in: working keys into the key store, the batch into the journal.
    fn sign_in(&mut self) {
        let mut m = Message::new(Mti::NETWORK_REQUEST);
        let stan = self.journal.next_stan().expect("stan");
        m.set_stan(stan).expect("11");
        m.set_text(41, TID).expect("41");
        m.set_text(42, MID).expect("42");
        m.set_text(60, "00000000003").expect("60");
        m.set_text(63, "01 ").expect("63");
        let payload = FRAME.encode_payload(&m).expect("encode");
        let answer = self
            .link
            .exchange(&payload, Duration::from_secs(2), &CancelToken::new())
            .expect("sign-in answer");
        let (_, rsp) = Frame::decode_payload(&answer).expect("decode");
        assert_eq!(rsp.response_code().expect("39").as_deref(), Some("00"));
        let block = rsp.text(62).expect("62").expect("keys").into_owned();
        self.keys
            .load_key_block(KeySlot::Master(0), &block, &KeyBlockLayout::default())
            .expect("key check values");
        self.journal
            .set_batch(rsp.batch_number().expect("60").expect("batch"))
            .expect("batch");
    }

    fn online(&mut self) -> Online<'_, TcpHostLink, SqliteJournal, SoftwareKeyStore> {
        Online::new(
            &mut self.link,
            &mut self.journal,
            &mut self.keys,
            &self.acquirer,
        )
    }

    fn card_message(
        &mut self,
        proc_code: &str,
        t60: &str,
        amount: Option<u64>,
    ) -> Message<'static> {
        let mut m = Message::new(Mti::FINANCIAL_REQUEST);
        m.set_text(2, PAN).expect("2");
        m.set_text(3, proc_code.to_string()).expect("3");
        if let Some(a) = amount {
            m.set_amount(Amount::from_minor(a).expect("amount"))
                .expect("4");
        }
        m.set_text(22, "051").expect("22");
        m.set_text(25, "00").expect("25");
        m.set_text(49, "156").expect("49");
        let pan = Pan::parse(PAN).expect("pan");
        let pin: pos_hal::PinDigits = Secret::new(InlineBytes::new(b"123456").expect("fits"));
        let block = self
            .keys
            .encrypt_pin_block(KeySlot::Pin, &pan, &pin, PinBlockFormat::Iso0Tdes)
            .expect("PIN block");
        m.set_bytes(52, block.reveal().to_vec()).expect("52");
        m.set_text(53, "2600000000000000").expect("53");
        let batch = self.journal.batch().expect("batch");
        m.set_text(60, format!("{t60}{batch:06}000")).expect("60");
        m
    }

    fn sale(&mut self, amount: u64) -> Result<String, String> {
        let m = self.card_message("000000", "22", Some(amount));
        match self.online().request(m, &CancelToken::new()) {
            Ok(a) => Ok(a.answer.response_code().ok().flatten().unwrap_or_default()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn balance(&mut self) -> u64 {
        let m = self.card_message("310000", "01", None);
        let a = self
            .online()
            .request(m, &CancelToken::new())
            .expect("balance");
        a.answer
            .string(54)
            .ok()
            .flatten()
            .and_then(|s| s.get(8..20).and_then(|d| d.parse().ok()))
            .expect("field 54")
    }
}

struct Dir(std::path::PathBuf);
impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("pos-online-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("dir");
        Self(p)
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup(name: &str) -> (Dir, HostSim, Pos) {
    let dir = Dir::new(name);
    let host = HostSim::start(HostConfig::demo(dir.0.join("ledger.sqlite"))).expect("host");
    let journal = SqliteJournal::open(dir.0.join("journal.sqlite")).expect("journal");
    let mut pos = Pos::new(&host, journal);
    pos.sign_in();
    (dir, host, pos)
}

#[test]
fn an_approved_sale_is_journaled_with_its_voucher() {
    let (_dir, _host, mut pos) = setup("approved");
    assert_eq!(pos.sale(5_000).as_deref(), Ok("00"));
    let last = pos.journal.last().expect("journal").expect("record");
    assert!(matches!(last.outcome, Outcome::Approved { .. }), "{last:?}");
    assert_eq!(pos.balance(), 995_000);
    let sale = pos
        .journal
        .by_voucher(last.voucher)
        .expect("q")
        .expect("reprint finds it");
    let kept = Message::unpack(&sale.request).expect("the journaled request unpacks");
    assert!(kept.has(4) && kept.has(11), "enough to reverse it");
    assert!(
        !kept.has(52) && !kept.has(35),
        "no PIN block or track data at rest"
    );
}

#[test]
fn no_answer_in_time_is_reversed_before_the_next_request_exactly_once() {
    let (_dir, host, mut pos) = setup("timeout");
    host.faults().delay_ms.store(2_500, Ordering::Relaxed);
    let err = pos.sale(7_000).expect_err("too slow");
    assert!(err.contains("reversed"), "{err}");
    let due = pos.journal.reversals_due().expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].outcome, Outcome::Unknown(ReversalReason::NoAnswer));
    host.faults().delay_ms.store(0, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(1_200)); // the host booked the late sale meanwhile
    // The next request sends the reversal first: the late sale is given back, once.
    assert_eq!(pos.balance(), 1_000_000);
    assert!(pos.journal.reversals_due().expect("due").is_empty());
    assert_eq!(pos.balance(), 1_000_000, "a second pass reverses nothing");
}

#[test]
fn a_wrong_mac_on_the_answer_is_an_unknown_outcome_reversed_with_a0() {
    let (_dir, host, mut pos) = setup("mac");
    host.faults().wrong_mac.store(true, Ordering::Relaxed);
    let m = pos.card_message("000000", "22", Some(3_000));
    let err = pos
        .online()
        .request(m, &CancelToken::new())
        .expect_err("bad MAC");
    assert!(
        matches!(err, OnlineError::Answer(AnswerFault::MacWrong)),
        "{err}"
    );
    assert!(err.outcome_unknown());
    let due = pos.journal.reversals_due().expect("due");
    assert_eq!(due[0].outcome, Outcome::Unknown(ReversalReason::MacFailure));
    host.faults().wrong_mac.store(false, Ordering::Relaxed);
    assert_eq!(
        pos.balance(),
        1_000_000,
        "the approved-but-unverified sale was reversed"
    );
}

#[test]
fn power_lost_while_waiting_is_reversed_after_restart() {
    let dir = Dir::new("power");
    let host = HostSim::start(HostConfig::demo(dir.0.join("ledger.sqlite"))).expect("host");
    let journal_path = dir.0.join("journal.sqlite");
    {
        let mut pos = Pos::new(&host, SqliteJournal::open(&journal_path).expect("journal"));
        pos.sign_in();
        // What `request` does up to the moment the power goes: journal, then send.
        let mut m = pos.card_message("000000", "22", Some(9_000));
        let stan = pos.journal.next_stan().expect("stan");
        m.set_stan(stan).expect("11");
        m.set_text(41, TID).expect("41");
        m.set_text(42, MID).expect("42");
        let mut kept = m.clone();
        for n in [35, 36, 52, 55, 26, 64] {
            kept.remove(n);
        }
        pos.journal
            .begin(stan, &kept.pack().expect("pack"))
            .expect("begin");
        let payload = FRAME
            .encode_payload_with_mac(&mut m, |mab| {
                pos.keys
                    .mac(KeySlot::Mac, MacAlgorithm::CupEcb, mab)
                    .expect("mac")
            })
            .expect("encode");
        let _ = pos
            .link
            .exchange(&payload, Duration::from_secs(2), &CancelToken::new());
        // …and the terminal dies before writing the outcome.
    }
    let mut pos = Pos::new(
        &host,
        SqliteJournal::open(&journal_path).expect("journal again"),
    );
    pos.sign_in();
    assert_eq!(pos.journal.reversals_due().expect("due").len(), 1);
    assert_eq!(
        pos.balance(),
        1_000_000,
        "the sale the host booked was reversed"
    );
}

#[test]
fn a_reversal_waits_while_the_host_is_down_and_goes_first_when_it_is_back() {
    let dir = Dir::new("down");
    let ledger = dir.0.join("ledger.sqlite");
    let host = HostSim::start(HostConfig::demo(&ledger)).expect("host");
    let port = host.addr().port();
    let mut pos = Pos::new(
        &host,
        SqliteJournal::open(dir.0.join("journal.sqlite")).expect("journal"),
    );
    pos.sign_in();
    host.faults().drop.store(true, Ordering::Relaxed);
    assert!(pos.sale(4_000).is_err());
    drop(host);
    // Host down: the queued reversal cannot go, so no new request goes either.
    let m = pos.card_message("310000", "01", None);
    let err = pos
        .online()
        .request(m, &CancelToken::new())
        .expect_err("host down");
    assert!(matches!(err, OnlineError::ReversalPending(_)), "{err}");
    let mut config = HostConfig::demo(&ledger);
    config.port = port;
    let _host = HostSim::start(config).expect("host back");
    assert_eq!(pos.balance(), 1_000_000);
    assert!(pos.journal.reversals_due().expect("due").is_empty());
}

fn sign_in_via_core(pos: &mut Pos) -> Result<u32, String> {
    pos.online()
        .sign_in(
            "01",
            KeySlot::Master(0),
            &KeyBlockLayout::default(),
            true,
            &CancelToken::new(),
        )
        .map_err(|e| e.to_string())
}

#[test]
fn the_core_signs_in_through_key_store_operations_only() {
    let dir = Dir::new("signin");
    let host = HostSim::start(HostConfig::demo(dir.0.join("ledger.sqlite"))).expect("host");
    let mut pos = Pos::new(
        &host,
        SqliteJournal::open(dir.0.join("journal.sqlite")).expect("journal"),
    );
    let batch = sign_in_via_core(&mut pos).expect("signed in");
    assert_eq!(pos.journal.batch().expect("batch"), batch);
    assert!(pos.keys.has_key(KeySlot::Track), "60.3 004 brings a TDK");
    assert_eq!(pos.sale(1_500).as_deref(), Ok("00"));
}

#[test]
fn sign_in_refusals_are_explained_and_a_bad_key_leaves_no_keys() {
    let dir = Dir::new("signin-refused");
    let host = HostSim::start(HostConfig::demo(dir.0.join("ledger.sqlite"))).expect("host");
    let mut pos = Pos::new(
        &host,
        SqliteJournal::open(dir.0.join("journal.sqlite")).expect("journal"),
    );
    pos.acquirer = Acquirer::new(FRAME, MacAlgorithm::CupEcb, "99999999", MID);
    let err = sign_in_via_core(&mut pos).expect_err("unknown terminal");
    assert!(
        err.contains("does not know this terminal") && err.contains("97"),
        "{err}"
    );

    pos.acquirer = Acquirer::new(FRAME, MacAlgorithm::CupEcb, TID, MID);
    pos.keys
        .install(KeySlot::Master(0), SecretKey::tdes(&[0x42; 16]).expect("k"))
        .expect("TMK");
    let err = sign_in_via_core(&mut pos).expect_err("wrong master key");
    assert!(err.contains("check value"), "{err}");
    assert!(
        !pos.keys.has_key(KeySlot::Pin) && !pos.keys.has_key(KeySlot::Mac),
        "not signed in: no working keys"
    );
}

#[test]
fn a_balanced_settlement_closes_the_batch_on_both_sides() {
    let (_dir, _host, mut pos) = setup("settle");
    assert_eq!(pos.sale(5_000).as_deref(), Ok("00"));
    assert_eq!(pos.sale(1_200).as_deref(), Ok("00"));
    let _ = pos.balance(); // not a debit
    let batch = pos.journal.batch().expect("batch");
    let s = pos
        .online()
        .settle("01", &CancelToken::new())
        .expect("settled");
    assert!(s.balanced, "{s:?}");
    assert_eq!(
        (s.batch, s.totals.debit, s.totals.credit, s.uploaded),
        (batch, (6_200, 2), (0, 0), 0)
    );
    assert_eq!(pos.journal.batch().expect("batch"), batch + 1);
    pos.sign_in();
    assert_eq!(
        pos.journal.batch().expect("batch"),
        batch + 1,
        "the host closed it too"
    );
}

#[test]
fn totals_that_disagree_upload_the_batch() {
    let (_dir, _host, mut pos) = setup("settle-upload");
    assert_eq!(pos.sale(2_000).as_deref(), Ok("00"));
    // A sale the host booked that this journal never saw.
    let mut other = pos.card_message("000000", "22", Some(700));
    other.set_stan(900_001).expect("11");
    other.set_text(41, TID).expect("41");
    other.set_text(42, MID).expect("42");
    let payload = FRAME
        .encode_payload_with_mac(&mut other, |mab| {
            pos.keys
                .mac(KeySlot::Mac, MacAlgorithm::CupEcb, mab)
                .expect("mac")
        })
        .expect("encode");
    pos.link
        .exchange(&payload, Duration::from_secs(2), &CancelToken::new())
        .expect("booked");
    let s = pos
        .online()
        .settle("01", &CancelToken::new())
        .expect("settled");
    assert!(!s.balanced);
    assert_eq!((s.totals.debit, s.uploaded), ((2_000, 1), 1));
}

#[test]
fn every_request_kind_through_the_core_and_a_balanced_settlement_after_them() {
    use pos_terminal::requests::{self, Card, Entry, Original};
    let (_dir, _host, mut pos) = setup("kinds");
    let pan = Pan::parse(PAN).expect("pan");
    let digits: pos_hal::PinDigits = Secret::new(InlineBytes::new(b"123456").expect("fits"));
    let pin = pos
        .keys
        .encrypt_pin_block(KeySlot::Pin, &pan, &digits, PinBlockFormat::Iso0Tdes)
        .expect("PIN block");
    let card = Card::new(&pan, Entry::Inserted).with_pin(&pin);
    let batch = pos.journal.batch().expect("batch");
    let cancel = CancelToken::new();
    let amount = |minor| Amount::from_minor(minor).expect("amount");
    let rrn_of = |a: &pos_terminal::online::Answered| {
        assert_eq!(
            a.answer.response_code().ok().flatten().as_deref(),
            Some("00")
        );
        match &a.record.outcome {
            Outcome::Approved { rrn, auth, .. } => (rrn.clone(), auth.clone()),
            other => panic!("{other:?}"),
        }
    };
    // Sale, then its void.
    let sale = pos
        .online()
        .request(
            requests::sale(&card, amount(5_000), batch).expect("sale"),
            &cancel,
        )
        .expect("sale");
    let (sale_rrn, _) = rrn_of(&sale);
    let void = requests::void(
        &card,
        amount(5_000),
        batch,
        &Original {
            rrn: sale_rrn,
            auth: None,
            batch_stan: Some((batch, sale.record.stan)),
            date: None,
        },
    )
    .expect("void");
    rrn_of(&pos.online().request(void, &cancel).expect("void"));
    // Another sale, refunded in part.
    let sale2 = pos
        .online()
        .request(
            requests::sale(&card, amount(8_000), batch).expect("sale"),
            &cancel,
        )
        .expect("sale");
    let (sale2_rrn, _) = rrn_of(&sale2);
    let refund = requests::refund(
        &Card::new(&pan, Entry::Manual),
        amount(3_000),
        batch,
        &Original {
            rrn: sale2_rrn,
            auth: None,
            batch_stan: None,
            date: None,
        },
    )
    .expect("refund");
    rrn_of(&pos.online().request(refund, &cancel).expect("refund"));
    // Pre-authorisation, completed; another one cancelled.
    let pre = pos
        .online()
        .request(
            requests::preauth(&card, amount(20_000), batch).expect("preauth"),
            &cancel,
        )
        .expect("preauth");
    let (pre_rrn, pre_auth) = rrn_of(&pre);
    let done = requests::completion(
        &card,
        amount(15_000),
        batch,
        &Original {
            rrn: pre_rrn,
            auth: Some(pre_auth),
            batch_stan: None,
            date: None,
        },
    )
    .expect("completion");
    rrn_of(&pos.online().request(done, &cancel).expect("completion"));
    let pre2 = pos
        .online()
        .request(
            requests::preauth(&card, amount(9_000), batch).expect("preauth"),
            &cancel,
        )
        .expect("preauth");
    let (pre2_rrn, _) = rrn_of(&pre2);
    let undo = requests::preauth_cancel(
        &card,
        amount(9_000),
        batch,
        &Original {
            rrn: pre2_rrn,
            auth: None,
            batch_stan: None,
            date: None,
        },
    )
    .expect("cancel");
    rrn_of(&pos.online().request(undo, &cancel).expect("cancel"));

    assert_eq!(pos.balance(), 1_000_000 - 8_000 + 3_000 - 15_000);
    let s = pos.online().settle("01", &cancel).expect("settled");
    assert_eq!(s.totals.debit, (5_000 + 8_000 + 15_000, 3), "{s:?}");
    assert_eq!(s.totals.credit, (5_000 + 3_000, 2), "{s:?}");
    assert!(s.balanced, "terminal and host count the same: {s:?}");
}

#[test]
fn a_chip_request_is_journaled_and_reversed_with_only_the_reversal_chip_data() {
    let (_dir, host, mut pos) = setup("icc-reversal");
    host.faults().delay_ms.store(2_500, Ordering::Relaxed);
    let mut m = pos.card_message("000000", "22", Some(1_234));
    // 9F26 (the ARQC) and 9F02 must not travel in a reversal; 95, 9F10 and 9F36 must.
    let icc = hex::decode(concat!(
        "9F26081122334455667788",
        "95050000000000",
        "9F0206000000001234",
        "9F10070701010003A000",
        "9F36020042"
    ))
    .expect("hex");
    m.set_bytes(55, icc).expect("55");
    pos.online()
        .request(m, &CancelToken::new())
        .expect_err("too slow");
    let due = pos.journal.reversals_due().expect("due");
    let kept = Message::unpack(&due[0].request).expect("journaled request");
    let icc = kept.text(55).expect("55").expect("chip data kept");
    assert_eq!(
        hex::encode_upper(icc.as_ref()),
        "950500000000009F10070701010003A0009F36020042"
    );
    host.faults().delay_ms.store(0, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(1_200));
    assert_eq!(
        pos.balance(),
        1_000_000,
        "the reversal with its chip data was accepted"
    );
}

fn reversals_at_host(dir: &Dir) -> i64 {
    rusqlite::Connection::open(dir.0.join("ledger.sqlite"))
        .expect("ledger")
        .query_row(
            "SELECT COUNT(*) FROM txns WHERE kind = 'reversal'",
            [],
            |r| r.get(0),
        )
        .expect("count")
}

#[test]
fn an_unanswered_balance_inquiry_is_not_reversed() {
    let (dir, host, mut pos) = setup("inquiry");
    host.faults().delay_ms.store(2_500, Ordering::Relaxed);
    let m = pos.card_message("310000", "01", None);
    let err = pos
        .online()
        .request(m, &CancelToken::new())
        .expect_err("too slow");
    assert!(
        matches!(err, OnlineError::InquiryUnanswered(_)),
        "{err:?}: {err}"
    );
    assert!(!err.to_string().contains("reversed"), "{err}");
    assert_eq!(
        pos.journal.last().expect("q").map(|r| r.outcome),
        Some(Outcome::Unanswered)
    );
    assert!(pos.journal.reversals_due().expect("due").is_empty());
    host.faults().delay_ms.store(0, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(1_200)); // the late inquiry reached the host
    assert_eq!(pos.sale(1_000).as_deref(), Ok("00"));
    assert_eq!(reversals_at_host(&dir), 0, "no 0400 for an inquiry");
}

#[test]
fn an_inquiry_cut_by_a_power_loss_is_closed_without_a_reversal() {
    let (dir, _host, mut pos) = setup("inquiry-power");
    let m = pos.card_message("310000", "01", None);
    let stan = pos.journal.next_stan().expect("stan");
    let mut kept = m.clone();
    kept.set_stan(stan).expect("11");
    kept.remove(52);
    let id = pos
        .journal
        .begin(stan, &kept.pack().expect("pack"))
        .expect("begin")
        .id;
    // The next request flushes what the power left pending.
    assert_eq!(pos.sale(1_000).as_deref(), Ok("00"));
    assert_eq!(reversals_at_host(&dir), 0, "no 0400 for an inquiry");
    let batch = pos.journal.batch().expect("batch");
    let records = pos.journal.records(batch).expect("records");
    let inquiry = records.iter().find(|r| r.id == id).expect("kept");
    assert_eq!(inquiry.outcome, Outcome::Unanswered);
}
