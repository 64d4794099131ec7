//! A terminal talks to `host-sim` over TCP through pos-platform's TcpHostLink, with MACs both
//! ways, real PIN blocks and the SQLite ledger.

use std::sync::atomic::Ordering;
use std::time::Duration;

use pos_hal::Amount;
use pos_hal::{Error as _, ErrorKind, MacAlgorithm};
use pos_platform::TcpHostLink;
use pos_sim::acquirer::{HostConfig, HostSim};
use pos_terminal::crypto::{
    KeyBlockLayout, SecretKey, WorkingKeys, encrypt_pin_block, encrypt_track, parse_key_block,
};
use pos_terminal::host::HostLink;
use pos_terminal::iso8583::{Frame, Message, Mti};

const TID: &str = "12345678";
const MID: &str = "123456789012345";
const UNIONPAY: &str = "6212345678901232";
const VISA: &str = "4761739001010010";
const FRAME: Frame = Frame::new(
    [0x60, 0x00, 0x03, 0x00, 0x00],
    [0x60, 0x31, 0x00, 0x31, 0x00, 0x00],
);

fn tmk() -> SecretKey {
    SecretKey::tdes(&hex::decode("70F2A84CCBC2AE8625CBB0F2C22AB923").expect("hex")).expect("tmk")
}

/// The terminal side of the conversation (what pos-terminal's flows will do).
struct Terminal {
    link: TcpHostLink,
    /// The MAC the acquirer wants of us.
    mac: MacAlgorithm,
    /// Our master key.
    tmk: SecretKey,
    keys: Option<WorkingKeys>,
    stan: u32,
    batch: u32,
}

#[derive(Debug)]
struct Answer {
    rc: String,
    rrn: Option<String>,
    msg: Message<'static>,
}

#[derive(Debug, PartialEq)]
enum Failure {
    /// The link failed; its HAL kind.
    Link(ErrorKind),
    Garbage,
    BadMac,
    NotForUs,
}

impl Terminal {
    fn new(host: &HostSim) -> Self {
        Self::at(host.addr().to_string())
    }

    fn at(address: String) -> Self {
        Self::with_link(TcpHostLink::new(address))
    }

    fn with_link(link: TcpHostLink) -> Self {
        Self {
            link,
            tmk: tmk(),
            mac: MacAlgorithm::CupEcb,
            keys: None,
            stan: 0,
            batch: 0,
        }
    }

    fn next_stan(&mut self) -> u32 {
        self.stan += 1;
        self.stan
    }

    fn base(&mut self, mti: Mti, proc_code: Option<&str>) -> Message<'static> {
        let mut m = Message::new(mti);
        if let Some(p) = proc_code {
            m.set_text(3, p.to_string()).expect("3");
        }
        let stan = self.next_stan();
        m.set_stan(stan).expect("11");
        m.set_text(41, TID).expect("41");
        m.set_text(42, MID).expect("42");
        m
    }

    fn send(&mut self, mut req: Message<'static>, mac: bool) -> Result<Answer, Failure> {
        let payload = match (&self.keys, mac) {
            (Some(k), true) => FRAME.encode_payload_with_mac(&mut req, |mab| {
                pos_terminal::crypto::mac(&k.mak, self.mac, mab).expect("mac")
            }),
            _ => FRAME.encode_payload(&req),
        }
        .expect("encode");
        let bytes = self
            .link
            .exchange(
                &payload,
                Duration::from_secs(2),
                &pos_hal::CancelToken::new(),
            )
            .map_err(|e| Failure::Link(e.kind()))?;
        let (_, rsp) = Frame::decode_payload(&bytes).map_err(|_| Failure::Garbage)?;
        // Response validation (notes §2.13): MTI, 11, 41, MAC.
        if rsp.mti() != req.mti().response()
            || rsp.string(11).ok().flatten() != req.string(11).ok().flatten()
            || rsp.terminal_id().ok().flatten().as_deref() != Some(TID)
        {
            return Err(Failure::NotForUs);
        }
        if let (Some(k), true) = (&self.keys, rsp.has(64)) {
            let (mab, mac) = Frame::mac_parts(&bytes).ok_or(Failure::Garbage)?;
            if !pos_terminal::crypto::verify_mac(&k.mak, self.mac, mab, mac).expect("verify") {
                return Err(Failure::BadMac);
            }
        }
        let rc = rsp.response_code().ok().flatten().unwrap_or_default();
        let rrn = rsp.string(37).ok().flatten();
        Ok(Answer {
            rc,
            rrn,
            msg: rsp.into_owned(),
        })
    }

    fn sign_in(&mut self) -> Answer {
        let mut m = self.base(Mti::NETWORK_REQUEST, None);
        m.set_text(60, "00000000004").expect("60");
        m.set_text(63, "01 ").expect("63");
        let a = self.send(m, false).expect("sign-in answer");
        assert_eq!(a.rc, "00");
        let block = a.msg.text(62).expect("62").expect("keys").into_owned();
        self.keys = Some(
            parse_key_block(
                &block,
                &self.tmk,
                &KeyBlockLayout::default()
                    .with_double_length_mak(self.mac == MacAlgorithm::X919)
                    .with_sm4(self.mac == MacAlgorithm::Sm4Cbc),
            )
            .expect("key check values"),
        );
        self.batch = a.msg.batch_number().expect("60").expect("batch");
        a
    }

    fn card_request(
        &mut self,
        mti: Mti,
        proc_code: &str,
        t60: &str,
        pan: &str,
        amount: Option<u64>,
        pin: Option<&str>,
    ) -> Message<'static> {
        let mut m = self.base(mti, Some(proc_code));
        m.set_text(2, pan.to_string()).expect("2");
        if let Some(a) = amount {
            m.set_amount(Amount::from_minor(a).expect("amount"))
                .expect("4");
        }
        m.set_text(22, if pin.is_some() { "051" } else { "052" })
            .expect("22");
        m.set_text(25, "00").expect("25");
        m.set_text(49, "156").expect("49");
        if let (Some(pin), Some(keys)) = (pin, &self.keys) {
            let block = encrypt_pin_block(&keys.pik, pin.as_bytes(), pan).expect("pin block");
            m.set_bytes(52, block.expose_secret().to_vec()).expect("52");
            m.set_text(53, "2600000000000000").expect("53");
        }
        m.set_text(60, format!("{t60}{:06}000", self.batch))
            .expect("60");
        m
    }

    /// Balance inquiry 0200/310000, 60.1 = 01.
    fn balance_request(&mut self, pan: &str, pin: &str) -> Message<'static> {
        self.card_request(Mti::FINANCIAL_REQUEST, "310000", "01", pan, None, Some(pin))
    }

    /// A management message (no card) with 60 = 00 + batch + `code` (60.3).
    fn management(&mut self, mti: Mti, code: &str) -> Message<'static> {
        let mut m = self.base(mti, None);
        m.set_text(60, format!("00{:06}{code}", self.batch))
            .expect("60");
        m
    }

    /// Settlement 0500 with these (amount, count) totals; the answer and its reconciliation
    /// code (field 48 position 31: 1 balanced, 2 not).
    fn settle(&mut self, debit: (u64, u32), credit: (u64, u32)) -> (Answer, Option<char>) {
        let mut m = self.management(Mti::SETTLEMENT, "201");
        let f48 = format!(
            "{:012}{:03}{:012}{:03}0{}",
            debit.0,
            debit.1,
            credit.0,
            credit.1,
            "0".repeat(31)
        );
        m.set_text(48, f48).expect("48");
        m.set_text(49, "156").expect("49");
        m.set_text(63, "01 ").expect("63");
        let a = self.send(m, false).expect("settlement");
        let code = a
            .msg
            .string(48)
            .expect("48")
            .and_then(|s| s.chars().nth(30));
        (a, code)
    }

    fn balance(&mut self, pan: &str, pin: &str) -> (String, Option<u64>) {
        let m = self.balance_request(pan, pin);
        let a = self.send(m, true).expect("answer");
        let bal = a
            .msg
            .string(54)
            .ok()
            .flatten()
            .and_then(|s| s.get(8..20).and_then(|d| d.parse().ok()));
        (a.rc, bal)
    }

    /// Balance with the card only (no field 52).
    fn balance_without_pin(&mut self, pan: &str) -> Option<u64> {
        let m = self.card_request(Mti::FINANCIAL_REQUEST, "310000", "01", pan, None, None);
        let a = self.send(m, true).expect("answer");
        a.msg
            .string(54)
            .ok()
            .flatten()
            .and_then(|s| s.get(8..20).and_then(|d| d.parse().ok()))
    }

    fn sale(&mut self, pan: &str, amount: u64, pin: &str) -> Answer {
        let m = self.card_request(
            Mti::FINANCIAL_REQUEST,
            "000000",
            "22",
            pan,
            Some(amount),
            Some(pin),
        );
        self.send(m, true).expect("answer")
    }
}

fn host(name: &str) -> (HostSim, tempdir::Dir) {
    let dir = tempdir::Dir::new(name);
    let host =
        HostSim::start(HostConfig::demo(dir.path().join("ledger.sqlite"))).expect("host starts");
    (host, dir)
}

mod tempdir {
    /// A directory under target/ removed on drop (no extra crate needed).
    pub struct Dir(std::path::PathBuf);
    impl Dir {
        pub fn new(name: &str) -> Self {
            let p =
                std::env::temp_dir().join(format!("pos-host-sim-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).expect("temp dir");
            Self(p)
        }
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn sign_in_sale_void_refund_balance_settlement() {
    let (host, _dir) = host("conversation");
    let mut t = Terminal::new(&host);
    let signin = t.sign_in();
    assert!(
        t.keys.as_ref().is_some_and(|k| k.tdk.is_some()),
        "60.3 004 brings a TDK"
    );
    assert_eq!(
        signin.msg.network_code().expect("60.3").as_deref(),
        Some("004")
    );

    let (rc, before) = t.balance(UNIONPAY, "123456");
    assert_eq!((rc.as_str(), before), ("00", Some(1_000_000)));

    let sale = t.sale(UNIONPAY, 5000, "123456");
    assert_eq!(sale.rc, "00");
    let sale_rrn = sale.rrn.clone().expect("RRN");
    assert!(sale.msg.string(38).expect("38").is_some(), "auth code");
    assert_eq!(
        sale.msg.amount().expect("4"),
        Some(Amount::from_minor(5000).expect("a"))
    );
    assert_eq!(t.balance(UNIONPAY, "123456").1, Some(995_000));

    // Void the sale: 0200/200000, 60.1 = 23, 37 = original RRN, 61 = batch + STAN.
    let mut void = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "200000",
        "23",
        UNIONPAY,
        Some(5000),
        Some("123456"),
    );
    void.set_text(37, sale_rrn.clone()).expect("37");
    void.set_text(61, format!("{:06}{:06}", t.batch, 2))
        .expect("61");
    assert_eq!(t.send(void, true).expect("void").rc, "00");
    assert_eq!(t.balance(UNIONPAY, "123456").1, Some(1_000_000));

    // A second sale, refunded in part: 0220/200000, 60.1 = 25.
    let sale2 = t.sale(VISA, 12_345, "1234");
    assert_eq!(sale2.rc, "00");
    let mut refund = t.card_request(
        Mti::FINANCIAL_ADVICE,
        "200000",
        "25",
        VISA,
        Some(2_345),
        None,
    );
    refund
        .set_text(37, sale2.rrn.clone().expect("rrn"))
        .expect("37");
    refund.set_text(61, "0000000000001123").expect("61");
    assert_eq!(t.send(refund, true).expect("refund").rc, "00");
    assert_eq!(t.balance(VISA, "1234").1, Some(500_000 - 12_345 + 2_345));

    // Settlement: debit = 2 sales (5000 + 12345), credit = void + refund (5000 + 2345).
    let (a, reconciliation) = t.settle((17_345, 2), (7_345, 2));
    assert_eq!(a.rc, "00");
    assert_eq!(reconciliation, Some('1'), "balanced");

    let off = t.management(Mti::NETWORK_ADVICE, "002");
    assert_eq!(t.send(off, false).expect("sign-off").rc, "00");

    // The batch advanced: the next sign-in gets batch + 1.
    let old = t.batch;
    t.sign_in();
    assert_eq!(t.batch, old + 1);
}

#[test]
fn declines_follow_the_ledger() {
    let (host, _dir) = host("declines");
    let mut t = Terminal::new(&host);
    t.sign_in();
    assert_eq!(t.sale(UNIONPAY, 100, "000000").rc, "55", "wrong PIN");
    assert_eq!(
        t.sale(UNIONPAY, 2_000_000, "123456").rc,
        "51",
        "insufficient funds"
    );
    assert_eq!(
        t.sale("6212345678901240", 100, "123456").rc,
        "14",
        "unknown card"
    );
    assert_eq!(
        t.sale("6212345678900028", 100, "123456").rc,
        "54",
        "expired"
    );
    let mut void = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "200000",
        "23",
        UNIONPAY,
        Some(100),
        Some("123456"),
    );
    void.set_text(37, "999999999999").expect("37");
    assert_eq!(
        t.send(void, true).expect("void").rc,
        "25",
        "original not found"
    );
    // A request whose MAC is wrong is refused with A0.
    let keys = t.keys.take();
    let mut forged = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "000000",
        "22",
        UNIONPAY,
        Some(100),
        None,
    );
    forged.set_bytes(64, vec![0u8; 8]).expect("64");
    let payload = FRAME.encode_payload(&forged).expect("encode");
    let bytes = t
        .link
        .exchange(
            &payload,
            Duration::from_secs(2),
            &pos_hal::CancelToken::new(),
        )
        .expect("answer");
    let (_, rsp) = Frame::decode_payload(&bytes).expect("decode");
    assert_eq!(rsp.response_code().expect("39").as_deref(), Some("A0"));
    t.keys = keys;
    // The right terminal id with another merchant id: invalid merchant.
    let mut other = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "310000",
        "01",
        UNIONPAY,
        None,
        Some("123456"),
    );
    other.set_text(42, "999999999999999").expect("42");
    assert_eq!(t.send(other, true).expect("answer").rc, "03");
}

#[test]
fn encrypted_track_sale_and_idempotent_reversal() {
    let (host, _dir) = host("reversal");
    let mut t = Terminal::new(&host);
    t.sign_in();
    let tdk = t.keys.as_ref().and_then(|k| k.tdk.clone()).expect("tdk");
    // Swiped card: no field 2, track 2 encrypted with the TDK (53 digit 3 = 1).
    let mut sale = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "000000",
        "22",
        UNIONPAY,
        Some(7_000),
        Some("123456"),
    );
    sale.remove(2);
    let track = encrypt_track(&tdk, "6212345678901232=30122200000000000").expect("track");
    sale.set_text(35, track).expect("35");
    sale.set_text(53, "2610000000000000").expect("53");
    let original = sale.clone();
    let a = t.send(sale, true).expect("sale");
    assert_eq!(a.rc, "00");
    assert_eq!(t.balance(UNIONPAY, "123456").1, Some(993_000));
    // Outcome unknown at the terminal → reversal 0400 with reason 98, sent twice.
    for _ in 0..2 {
        let mut rev = original.clone();
        rev.set_mti(Mti::REVERSAL);
        for n in [26u8, 35, 36, 37, 52, 53, 64] {
            rev.remove(n);
        }
        rev.set_text(39, "98").expect("39");
        assert_eq!(t.send(rev, true).expect("reversal").rc, "00");
    }
    assert_eq!(
        t.balance(UNIONPAY, "123456").1,
        Some(1_000_000),
        "credited back exactly once"
    );
}

#[test]
fn host_faults_are_caught_by_the_terminal() {
    let (host, _dir) = host("faults");
    let mut t = Terminal::new(&host);
    t.sign_in();
    host.faults().wrong_mac.store(true, Ordering::Relaxed);
    let m = t.balance_request(UNIONPAY, "123456");
    assert_eq!(t.send(m, true).expect_err("MAC"), Failure::BadMac);
    host.faults().wrong_mac.store(false, Ordering::Relaxed);
    host.faults().other_terminal.store(true, Ordering::Relaxed);
    // An answer for another terminal is not this request's answer: the link drops it and the
    // exchange ends without one (an unknown outcome the terminal reverses).
    let m = t.balance_request(UNIONPAY, "123456");
    assert_eq!(
        t.send(m, true).expect_err("tid"),
        Failure::Link(ErrorKind::Timeout)
    );
    host.faults().other_terminal.store(false, Ordering::Relaxed);
    host.faults().garbage.store(true, Ordering::Relaxed);
    let m = t.balance_request(UNIONPAY, "123456");
    assert_eq!(
        t.send(m, true).expect_err("garbage"),
        Failure::Link(ErrorKind::Timeout),
        "garbage is nobody's answer"
    );
    host.faults().garbage.store(false, Ordering::Relaxed);
    host.faults().drop.store(true, Ordering::Relaxed);
    let m = t.balance_request(UNIONPAY, "123456");
    assert_eq!(
        t.send(m, true).expect_err("drop"),
        Failure::Link(ErrorKind::Disconnected)
    );
    host.faults().drop.store(false, Ordering::Relaxed);
    host.faults().delay_ms.store(2_500, Ordering::Relaxed);
    let m = t.balance_request(UNIONPAY, "123456");
    assert_eq!(
        t.send(m, true).expect_err("slow"),
        Failure::Link(ErrorKind::Timeout)
    );
    host.faults().delay_ms.store(0, Ordering::Relaxed);
    assert_eq!(t.balance(UNIONPAY, "123456").0, "00", "works again");
}

#[test]
fn ledger_survives_a_host_restart_and_parallel_clients() {
    let dir = tempdir::Dir::new("durable");
    let db = dir.path().join("ledger.sqlite");
    let rrn = {
        let host = HostSim::start(HostConfig::demo(&db)).expect("host");
        let mut t = Terminal::new(&host);
        t.sign_in();
        t.sale(UNIONPAY, 1_000, "123456").rrn.expect("rrn")
    };
    let host = HostSim::start(HostConfig::demo(&db)).expect("host again");
    let mut t = Terminal::new(&host);
    t.sign_in();
    let mut void = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "200000",
        "23",
        UNIONPAY,
        Some(1_000),
        Some("123456"),
    );
    void.set_text(37, rrn).expect("37");
    assert_eq!(t.send(void, true).expect("void after restart").rc, "00");

    // 8 clients in parallel, each with its own STANs, all durable.
    let keys = t.keys.clone().expect("keys");
    let batch = t.batch;
    std::thread::scope(|s| {
        for client in 0..8u32 {
            let (host, keys) = (&host, keys.clone());
            s.spawn(move || {
                let mut c = Terminal::new(host);
                c.keys = Some(keys);
                c.batch = batch;
                c.stan = 1000 * (client + 1);
                for _ in 0..20 {
                    assert_eq!(c.sale(VISA, 1, "1234").rc, "00");
                }
            });
        }
    });
    assert_eq!(t.balance(VISA, "1234").1, Some(500_000 - 160));
}

#[test]
fn pre_auth_completion_and_cancel_then_unbalanced_settlement_with_batch_upload() {
    let (host, _dir) = host("preauth");
    let mut t = Terminal::new(&host);
    t.sign_in();
    // Pre-auth 0100/030000 (25 = 06, 60.1 = 10): approved, nothing debited yet.
    let mut pre = t.card_request(
        Mti::AUTH_REQUEST,
        "030000",
        "10",
        UNIONPAY,
        Some(30_000),
        Some("123456"),
    );
    pre.set_text(25, "06").expect("25");
    let pre = t.send(pre, true).expect("pre-auth");
    assert_eq!(pre.rc, "00");
    let auth = pre.msg.string(38).expect("38").expect("auth code");
    assert_eq!(t.balance(UNIONPAY, "123456").1, Some(1_000_000));
    // Completion 0200/000000 (60.1 = 20) with the auth code: debits.
    let mut done = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "000000",
        "20",
        UNIONPAY,
        Some(28_000),
        Some("123456"),
    );
    done.set_text(25, "06").expect("25");
    done.set_text(38, auth.clone()).expect("38");
    assert_eq!(t.send(done, true).expect("completion").rc, "00");
    assert_eq!(t.balance(UNIONPAY, "123456").1, Some(972_000));
    // A second completion of the same pre-auth finds nothing to complete.
    let mut again = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "000000",
        "20",
        UNIONPAY,
        Some(1_000),
        Some("123456"),
    );
    again.set_text(38, auth).expect("38");
    assert_eq!(t.send(again, true).expect("completion").rc, "25");
    // Another pre-auth, cancelled (0100/200000, 60.1 = 11) by its RRN.
    let mut pre2 = t.card_request(
        Mti::AUTH_REQUEST,
        "030000",
        "10",
        VISA,
        Some(5_000),
        Some("1234"),
    );
    pre2.set_text(25, "06").expect("25");
    let pre2 = t.send(pre2, true).expect("pre-auth");
    let mut cancel = t.card_request(
        Mti::AUTH_REQUEST,
        "200000",
        "11",
        VISA,
        Some(5_000),
        Some("1234"),
    );
    cancel
        .set_text(37, pre2.rrn.clone().expect("rrn"))
        .expect("37");
    assert_eq!(t.send(cancel, true).expect("cancel").rc, "00");

    // The terminal's totals disagree with the host's (it forgot the completion): unbalanced.
    let (_, reconciliation) = t.settle((0, 0), (0, 0));
    assert_eq!(reconciliation, Some('2'), "unbalanced");
    // Batch upload (0320, 60.3 201) then its end (202): accepted; the batch stays open.
    let mut up = t.management(Mti::BATCH_UPLOAD, "201");
    up.set_text(
        48,
        format!("01{}{:06}{:0>20}{:012}", "00", 3, UNIONPAY, 28_000),
    )
    .expect("48");
    assert_eq!(t.send(up, false).expect("upload").rc, "00");
    let mut end = t.management(Mti::BATCH_UPLOAD, "202");
    end.set_text(48, "0001").expect("48");
    assert_eq!(t.send(end, false).expect("upload end").rc, "00");
    let old = t.batch;
    t.sign_in();
    assert_eq!(
        t.batch, old,
        "an unbalanced batch is not closed by the host"
    );
}

/// A sale request (not sent), its STAN taken.
fn sale_request(t: &mut Terminal, pan: &str, amount: u64, pin: &str) -> Message<'static> {
    t.card_request(
        Mti::FINANCIAL_REQUEST,
        "000000",
        "22",
        pan,
        Some(amount),
        Some(pin),
    )
}

/// The reversal of `original` (0400, reason 98), as the terminal builds it.
fn reversal_of(original: &Message<'static>) -> Message<'static> {
    let mut rev = original.clone();
    rev.set_mti(Mti::REVERSAL);
    for n in [26u8, 35, 36, 37, 52, 53, 64] {
        rev.remove(n);
    }
    rev.set_text(39, "98").expect("39");
    rev
}

#[test]
fn a_repeated_stan_is_answered_from_the_ledger_never_booked_twice() {
    let (host, dir) = host("duplicate");
    let mut t = Terminal::new(&host);
    t.sign_in();
    let sale = sale_request(&mut t, UNIONPAY, 5_000, "123456");
    let first = t.send(sale.clone(), true).expect("sale");
    assert_eq!(first.rc, "00");
    let again = t.send(sale.clone(), true).expect("retransmission");
    assert_eq!(
        (again.rc.as_str(), again.rrn.clone()),
        ("00", first.rrn.clone())
    );
    assert_eq!(
        t.balance(UNIONPAY, "123456").1,
        Some(995_000),
        "debited once"
    );
    // The same STAN with other content (an amount the account cannot pay): refused, and the
    // approval in the ledger stays as it was.
    let mut other = sale.clone();
    other
        .set_amount(Amount::from_minor(5_000_000).expect("amount"))
        .expect("4");
    assert_eq!(t.send(other, true).expect("other content").rc, "94");
    let db = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).expect("ledger");
    let (rc, state): (String, String) = db
        .query_row(
            "SELECT rc, state FROM txns WHERE kind = 'sale' AND stan = ?1",
            [sale.stan().expect("11").expect("stan")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!((rc.as_str(), state.as_str()), ("00", "approved"));
    assert_eq!(t.balance(UNIONPAY, "123456").1, Some(995_000));
}

#[test]
fn a_reversal_before_its_original_declines_the_late_original() {
    let (host, _dir) = host("early-reversal");
    let mut t = Terminal::new(&host);
    t.sign_in();
    let sale = sale_request(&mut t, UNIONPAY, 8_000, "123456");
    assert_eq!(t.send(reversal_of(&sale), true).expect("reversal").rc, "00");
    let late = t.send(sale, true).expect("late original");
    assert_ne!(late.rc, "00", "the terminal gave it up: no money moves");
    assert_eq!(t.balance(UNIONPAY, "123456").1, Some(1_000_000));
}

#[test]
fn a_reversal_must_name_the_original_amount_and_card() {
    let (host, _dir) = host("reversal-checks");
    let mut t = Terminal::new(&host);
    t.sign_in();
    let sale = sale_request(&mut t, UNIONPAY, 3_000, "123456");
    assert_eq!(t.send(sale.clone(), true).expect("sale").rc, "00");
    let mut wrong_amount = reversal_of(&sale);
    wrong_amount
        .set_amount(Amount::from_minor(30_000).expect("amount"))
        .expect("4");
    assert_eq!(t.send(wrong_amount, true).expect("rev").rc, "64");
    let mut wrong_card = reversal_of(&sale);
    wrong_card.set_text(2, VISA).expect("2");
    assert_eq!(t.send(wrong_card, true).expect("rev").rc, "25");
    assert_eq!(
        t.balance(UNIONPAY, "123456").1,
        Some(997_000),
        "still debited"
    );
    assert_eq!(t.send(reversal_of(&sale), true).expect("rev").rc, "00");
    assert_eq!(t.balance(UNIONPAY, "123456").1, Some(1_000_000));
}

#[test]
fn refunds_of_one_sale_cannot_add_up_to_more_than_it() {
    let (host, _dir) = host("refunds");
    let mut t = Terminal::new(&host);
    t.sign_in();
    let sale = t.sale(VISA, 10_000, "1234");
    assert_eq!(sale.rc, "00");
    let rrn = sale.rrn.clone().expect("rrn");
    let refund = |t: &mut Terminal, amount: u64| {
        let mut r = t.card_request(
            Mti::FINANCIAL_ADVICE,
            "200000",
            "25",
            VISA,
            Some(amount),
            None,
        );
        r.set_text(37, rrn.clone()).expect("37");
        r.set_text(61, "0000000000001123").expect("61");
        t.send(r, true).expect("refund").rc
    };
    assert_eq!(refund(&mut t, 6_000), "00");
    assert_eq!(refund(&mut t, 5_000), "61", "6000 + 5000 > 10000");
    assert_eq!(refund(&mut t, 4_000), "00");
    assert_eq!(refund(&mut t, 1), "61");
    assert_eq!(t.balance(VISA, "1234").1, Some(500_000));
}

/// Starts the `host-sim` binary on a free port; returns it and its address once it accepts.
fn host_process(db: &std::path::Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_host-sim"))
        .arg("--db")
        .arg(db)
        .args(["--port", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("host-sim starts");
    let addr = format!("127.0.0.1:{port}");
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "host-sim never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, addr)
}

#[test]
fn host_killed_mid_commit_keeps_every_answered_request_and_a_consistent_ledger() {
    let dir = tempdir::Dir::new("kill9");
    let db = dir.path().join("ledger.sqlite");
    let (mut child, addr) = host_process(&db);
    let mut t = Terminal::at(addr.clone());
    t.sign_in();
    let (keys, batch) = (t.keys.clone().expect("keys"), t.batch);
    let approved = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for client in 0..4u32 {
            let (addr, keys, approved) = (addr.clone(), keys.clone(), &approved);
            s.spawn(move || {
                let mut c = Terminal::at(addr);
                c.keys = Some(keys);
                c.batch = batch;
                c.stan = 1000 * (client + 1);
                // Sales until the host dies under us; each approved STAN is noted.
                for _ in 0..2_000 {
                    let m = sale_request(&mut c, UNIONPAY, 1, "123456");
                    let stan = m.stan().expect("11").expect("stan");
                    match c.send(m, true) {
                        Ok(a) if a.rc == "00" => approved
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(stan),
                        Ok(a) => panic!("declined {}", a.rc),
                        Err(_) => break,
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(400));
        child.kill().expect("kill -9");
    });
    let _ = child.wait();
    let approved = approved
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    assert!(
        !approved.is_empty(),
        "some sales were answered before the kill"
    );

    let (mut again, addr) = host_process(&db);
    let db = rusqlite::Connection::open(&db).expect("ledger");
    for stan in &approved {
        let state: String = db
            .query_row(
                "SELECT state FROM txns WHERE kind = 'sale' AND stan = ?1",
                [stan],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("answered sale {stan} is missing: {e}"));
        assert_eq!(state, "approved", "stan {stan}");
    }
    let booked: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM txns WHERE kind = 'sale' AND state = 'approved' AND pan = ?1",
            [UNIONPAY],
            |r| r.get(0),
        )
        .expect("count");
    assert!(
        booked >= approved.len() as i64,
        "every answer was booked first"
    );
    let mut t = Terminal::at(addr);
    t.keys = Some(keys);
    t.batch = batch;
    t.stan = 9000;
    assert_eq!(
        t.balance(UNIONPAY, "123456").1,
        Some(1_000_000 - booked as u64),
        "the balance is what the booked sales say"
    );
    let _ = again.kill();
    let _ = again.wait();
}

#[test]
fn an_acquirer_can_require_x919_macs_with_a_double_length_mak() {
    let dir = tempdir::Dir::new("x919");
    let mut config = HostConfig::demo(dir.path().join("ledger.sqlite"));
    config.terminals[0].mac = MacAlgorithm::X919;
    let host = HostSim::start(config).expect("host");
    let mut t = Terminal::new(&host);
    t.mac = MacAlgorithm::X919;
    t.sign_in();
    assert_eq!(
        t.keys.as_ref().map(|k| k.mak.expose().len()),
        Some(16),
        "X9.19 needs a double-length MAK"
    );
    let sale = t.sale(UNIONPAY, 2_500, "123456");
    assert_eq!(
        sale.rc, "00",
        "the host checked our X9.19 MAC, we checked its"
    );
    // A terminal still on the CUP ECB MAC is refused by this acquirer (A0).
    t.mac = MacAlgorithm::CupEcb;
    let m = t.balance_request(UNIONPAY, "123456");
    assert_eq!(t.send(m, true).expect("answer").rc, "A0");
}

/// A test CA and a host certificate for `localhost` signed by it, in PEM.
fn test_pki() -> (String, pos_sim::acquirer::ServerTls) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let host_key = KeyPair::generate().expect("host key");
    let host = CertificateParams::new(vec!["localhost".to_string()])
        .expect("host params")
        .signed_by(&host_key, &issuer)
        .expect("host certificate");
    (
        ca.pem(),
        pos_sim::acquirer::ServerTls {
            cert_chain_pem: host.pem().into_bytes(),
            key_pem: host_key.serialize_pem().into_bytes(),
        },
    )
}

#[test]
fn the_host_link_speaks_tls_with_a_pinned_ca_and_refuses_other_certificates() {
    use pos_platform::TlsSettings;
    let dir = tempdir::Dir::new("tls");
    let (ca_pem, identity) = test_pki();
    let mut config = HostConfig::demo(dir.path().join("ledger.sqlite"));
    config.tls = Some(identity);
    let host = HostSim::start(config).expect("TLS host");
    let addr = format!("localhost:{}", host.addr().port());

    let tls = TlsSettings::pinned_ca(ca_pem.as_bytes(), "localhost").expect("settings");
    let mut t = Terminal::with_link(TcpHostLink::new(addr.clone()).with_tls(tls));
    t.sign_in();
    assert_eq!(
        t.sale(UNIONPAY, 1_200, "123456").rc,
        "00",
        "a sale over TLS"
    );

    // Another CA pinned: the host's certificate is refused with a clear error.
    let (other_ca, _) = test_pki();
    let wrong = TlsSettings::pinned_ca(other_ca.as_bytes(), "localhost").expect("settings");
    let mut link = TcpHostLink::new(addr.clone()).with_tls(wrong);
    let err = link
        .exchange_matching(
            &[1],
            Duration::from_secs(3),
            &pos_hal::CancelToken::new(),
            &|_| true,
        )
        .expect_err("untrusted certificate");
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(
        err.to_string().contains("TLS handshake")
            && std::error::Error::source(&err)
                .is_some_and(|s| s.to_string().contains("certificate")),
        "{err}: {:?}",
        std::error::Error::source(&err)
    );
    // The right CA but the wrong name.
    let misnamed = TlsSettings::pinned_ca(ca_pem.as_bytes(), "acquirer.example").expect("settings");
    let mut link = TcpHostLink::new(addr).with_tls(misnamed);
    let err = link
        .exchange_matching(
            &[1],
            Duration::from_secs(3),
            &pos_hal::CancelToken::new(),
            &|_| true,
        )
        .expect_err("wrong name");
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    // Settings without a CA are refused up front.
    assert!(TlsSettings::pinned_ca(b"not a PEM", "localhost").is_err());
}

#[test]
fn an_sm_acquirer_gets_sm4_working_keys_and_sm4_macs_end_to_end() {
    let dir = tempdir::Dir::new("sm4");
    let sm4_tmk = [0x3C; 16];
    let mut config = HostConfig::demo(dir.path().join("ledger.sqlite"));
    config.terminals[0].mac = MacAlgorithm::Sm4Cbc;
    config.terminals[0].tmk = sm4_tmk.to_vec();
    let host = HostSim::start(config).expect("host");
    let mut t = Terminal::new(&host);
    t.mac = MacAlgorithm::Sm4Cbc;
    t.tmk = SecretKey::sm4(&sm4_tmk).expect("SM4 TMK");
    t.sign_in();
    let keys = t.keys.as_ref().expect("keys");
    assert!(
        keys.mak.is_sm4() && keys.pik.is_sm4(),
        "SM4 working keys, checked by their SM4 check values"
    );
    // A sale without PIN (signature CVM), MAC'd with SM4 both ways.
    let sale = t.card_request(
        Mti::FINANCIAL_REQUEST,
        "000000",
        "22",
        VISA,
        Some(900),
        None,
    );
    assert_eq!(t.send(sale, true).expect("sale").rc, "00");
    assert_eq!(t.balance_without_pin(VISA), Some(500_000 - 900));
}
