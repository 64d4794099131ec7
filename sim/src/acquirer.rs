//! An acquirer host for the CUP POS dialect: TCP on loopback, SQLite ledger, real MACs and
//! PIN blocks, fault switches. In-process for tests ([`HostSim::start`]) and as `host-sim`.
//!
//! It answers sign-in 0800 (working keys under the TMK with check values, new batch number),
//! balance, sale, void, refund, pre-auth / completion / pre-auth cancel, reversal 0400
//! (idempotent), settlement 0500 with a totals check, batch upload 0320, sign-off and echo
//! 0820. Requests with a MAC are verified (A0 on mismatch), PIN blocks are decrypted and checked
//! against the card's PIN (55), decisions follow the ledger (14 unknown card, 54 expired, 51
//! insufficient funds, 25 original not found, 64 amount mismatch, 12 invalid transaction).
//! Every record is committed with `synchronous=FULL` in WAL mode before the answer goes out.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use pos_io::frame;
use pos_terminal::crypto::{
    KeyBlockLayout, SecretKey, WorkingKeys, build_key_block, cup_mac, decrypt_pin_block,
    decrypt_track, verify_cup_mac,
};
use pos_terminal::iso8583::{Frame, Message, Mti};
use rusqlite::{Connection, OptionalExtension, params};

/// Why the host could not start or a request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// Socket trouble.
    #[error("host socket: {0}")]
    Io(#[from] std::io::Error),
    /// A frame could not be read or written (truncated, oversize).
    #[error("host framing: {0}")]
    Frame(#[from] pos_io::frame::FrameError),
    /// Database trouble.
    #[error("host ledger: {0}")]
    Db(#[from] rusqlite::Error),
    /// A message could not be built.
    #[error("host message: {0}")]
    Codec(#[from] pos_terminal::iso8583::CodecError),
    /// A key operation failed.
    #[error("host keys: {0}")]
    Crypto(#[from] pos_terminal::crypto::CryptoError),
}

/// Fault switches, changeable while the host runs.
#[derive(Debug, Default)]
pub struct Faults {
    /// Delay every answer by this many milliseconds.
    pub delay_ms: AtomicU64,
    /// Close the connection instead of answering.
    pub drop: AtomicBool,
    /// Answer with a frame of garbage bytes.
    pub garbage: AtomicBool,
    /// Corrupt the MAC of answers.
    pub wrong_mac: AtomicBool,
    /// Answer as if for another terminal (field 41 changed).
    pub other_terminal: AtomicBool,
}

/// A terminal the host knows.
#[derive(Debug, Clone)]
pub struct TerminalConfig {
    /// Field 41.
    pub tid: String,
    /// Field 42.
    pub mid: String,
    /// Terminal master key (16 bytes, TDES).
    pub tmk: Vec<u8>,
}

/// A card account the host knows.
#[derive(Debug, Clone)]
pub struct AccountConfig {
    /// Card number.
    pub pan: String,
    /// PIN digits.
    pub pin: String,
    /// Balance in fen.
    pub balance: i64,
    /// Expiry YYMM.
    pub expiry: String,
}

/// Host configuration.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// SQLite file (created if missing).
    pub db: PathBuf,
    /// Port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// Terminals.
    pub terminals: Vec<TerminalConfig>,
    /// Accounts.
    pub accounts: Vec<AccountConfig>,
    /// Issue a TDK at sign-in (60.3 004 always gets one).
    pub issue_tdk: bool,
}

impl HostConfig {
    /// The demo set-up: terminal 12345678 / merchant 123456789012345 with the TMK of the notes'
    /// vector, and the accounts of the simulated cards (UnionPay debit PIN 123456, Visa PIN 1234).
    pub fn demo(db: impl Into<PathBuf>) -> Self {
        Self {
            db: db.into(),
            port: 0,
            terminals: vec![TerminalConfig {
                tid: "12345678".into(),
                mid: "123456789012345".into(),
                tmk: hex::decode("70F2A84CCBC2AE8625CBB0F2C22AB923").unwrap_or_default(),
            }],
            accounts: vec![
                AccountConfig {
                    pan: "6212345678901232".into(),
                    pin: "123456".into(),
                    balance: 1_000_000,
                    expiry: "3012".into(),
                },
                AccountConfig {
                    pan: "4761739001010010".into(),
                    pin: "1234".into(),
                    balance: 500_000,
                    expiry: "3112".into(),
                },
                AccountConfig {
                    pan: "6212345678900028".into(),
                    pin: "123456".into(),
                    balance: 100_000,
                    expiry: "2001".into(),
                },
            ],
            issue_tdk: true,
        }
    }
}

/// A running host. Dropping it stops the listener.
#[derive(Debug)]
pub struct HostSim {
    addr: SocketAddr,
    faults: Arc<Faults>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn open_db(path: &Path) -> Result<Connection, HostError> {
    let db = Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(10))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "FULL")?;
    Ok(db)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS terminals(
    tid TEXT PRIMARY KEY, mid TEXT NOT NULL, tmk BLOB NOT NULL,
    pik BLOB, mak BLOB, tdk BLOB, batch INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS accounts(
    pan TEXT PRIMARY KEY, pin TEXT NOT NULL, balance INTEGER NOT NULL, expiry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS txns(
    id INTEGER PRIMARY KEY AUTOINCREMENT, tid TEXT NOT NULL, batch INTEGER NOT NULL,
    stan INTEGER NOT NULL, kind TEXT NOT NULL, pan TEXT, amount INTEGER NOT NULL,
    rrn TEXT, auth TEXT, rc TEXT NOT NULL, state TEXT NOT NULL, orig_rrn TEXT,
    created TEXT NOT NULL DEFAULT (datetime('now')),
    UNIQUE(tid, batch, stan, kind));
";

fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut out);
    }
    out
}

impl HostSim {
    /// Creates the ledger (if needed), seeds terminals and accounts, and starts listening.
    pub fn start(config: HostConfig) -> Result<Self, HostError> {
        let mut db = open_db(&config.db)?;
        db.execute_batch(SCHEMA)?;
        let tx = db.transaction()?;
        for t in &config.terminals {
            tx.execute(
                "INSERT INTO terminals(tid, mid, tmk) VALUES (?1, ?2, ?3)
                 ON CONFLICT(tid) DO UPDATE SET mid = excluded.mid, tmk = excluded.tmk",
                params![t.tid, t.mid, t.tmk],
            )?;
        }
        for a in &config.accounts {
            tx.execute(
                "INSERT OR IGNORE INTO accounts(pan, pin, balance, expiry) VALUES (?1, ?2, ?3, ?4)",
                params![a.pan, a.pin, a.balance, a.expiry],
            )?;
        }
        tx.commit()?;
        drop(db);
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let faults = Arc::new(Faults::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (jobs, queue) = mpsc::channel::<Job>();
        let ledger_db = open_db(&config.db)?;
        let ledger_config = config.clone();
        std::thread::Builder::new()
            .name("host-sim-ledger".into())
            .spawn(move || ledger(ledger_db, &ledger_config, &queue))?;
        let (f, s) = (faults.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("host-sim".into())
            .spawn(move || {
                while !s.load(Ordering::Acquire) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (f, jobs) = (f.clone(), jobs.clone());
                            let _ = std::thread::Builder::new()
                                .name("host-sim-client".into())
                                .spawn(move || {
                                    if let Err(e) = serve(stream, &jobs, &f) {
                                        eprintln!("host-sim: client ended: {e}");
                                    }
                                });
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
            })?;
        Ok(Self {
            addr,
            faults,
            stop,
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fault switches.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
}

impl Drop for HostSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_frame(s: &mut TcpStream) -> Result<Option<Vec<u8>>, HostError> {
    Ok(frame::read(s, frame::MAX_PAYLOAD)?)
}

/// An answer too long for its 2-byte length is refused (an error), never sent with a
/// clamped length.
fn write_frame(s: &mut TcpStream, body: &[u8]) -> Result<(), HostError> {
    Ok(frame::write(s, body)?)
}

/// One request for the ledger thread and where its answer goes.
struct Job {
    request: Vec<u8>,
    answer: mpsc::Sender<Option<Vec<u8>>>,
}

/// The only writer: takes every request that is waiting, handles each in its own savepoint and
/// commits them together (one fsync for the group), then releases the answers. An answer is
/// never sent before its record is durable.
fn ledger(mut db: Connection, config: &HostConfig, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut answers = Vec::with_capacity(batch.len());
        let committed = (|| -> Result<(), HostError> {
            let mut tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for job in &batch {
                let sp = tx.savepoint()?;
                match handle(&sp, config, &job.request) {
                    Ok(answer) => {
                        sp.commit()?;
                        answers.push(answer);
                    }
                    Err(e) => {
                        eprintln!("host-sim: request failed: {e}");
                        answers.push(None);
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = committed {
            eprintln!("host-sim: ledger commit failed: {e}");
            answers = batch.iter().map(|_| None).collect();
        }
        for (job, answer) in batch.into_iter().zip(answers) {
            let _ = job.answer.send(answer);
        }
    }
}

fn serve(
    mut stream: TcpStream,
    jobs: &mpsc::Sender<Job>,
    faults: &Faults,
) -> Result<(), HostError> {
    stream.set_nodelay(true)?;
    while let Some(request) = read_frame(&mut stream)? {
        let (tx, rx) = mpsc::channel();
        if jobs
            .send(Job {
                request,
                answer: tx,
            })
            .is_err()
        {
            return Ok(());
        }
        let answer = rx.recv().unwrap_or(None);
        let delay = faults.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        if faults.drop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if faults.garbage.load(Ordering::Relaxed) {
            write_frame(&mut stream, &random_bytes(40))?;
            continue;
        }
        let Some(mut answer) = answer else {
            return Ok(());
        };
        if faults.wrong_mac.load(Ordering::Relaxed) && answer.len() > 8 {
            let n = answer.len();
            answer[n - 1] ^= 0x01;
        }
        if faults.other_terminal.load(Ordering::Relaxed) {
            answer = retarget(&answer).unwrap_or(answer);
        }
        write_frame(&mut stream, &answer)?;
    }
    Ok(())
}

/// The same answer, addressed to another terminal id (anti code-jumping tests).
fn retarget(answer: &[u8]) -> Option<Vec<u8>> {
    let (frame, msg) = Frame::decode_payload(answer).ok()?;
    let mut msg = msg.into_owned();
    msg.set_text(41, "87654321").ok()?;
    frame.encode_payload(&msg).ok()
}

struct Terminal {
    tid: String,
    mid: String,
    tmk: SecretKey,
    pik: Option<SecretKey>,
    mak: Option<SecretKey>,
    tdk: Option<SecretKey>,
    batch: u32,
}

fn load_terminal(db: &Connection, tid: &str) -> Result<Option<Terminal>, HostError> {
    let row = db
        .query_row(
            "SELECT mid, tmk, pik, mak, tdk, batch FROM terminals WHERE tid = ?1",
            [tid],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                    r.get::<_, Option<Vec<u8>>>(4)?,
                    r.get::<_, u32>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((mid, tmk, pik, mak, tdk, batch)) = row else {
        return Ok(None);
    };
    let key = |b: Option<Vec<u8>>| b.and_then(|b| SecretKey::tdes(&b).ok());
    Ok(Some(Terminal {
        tid: tid.into(),
        mid,
        tmk: SecretKey::tdes(&tmk)?,
        pik: key(pik),
        mak: key(mak),
        tdk: key(tdk),
        batch,
    }))
}

/// Builds the answer to one framed request; `None` closes the connection (unreadable input).
fn handle(
    db: &Connection,
    config: &HostConfig,
    request: &[u8],
) -> Result<Option<Vec<u8>>, HostError> {
    let Ok((frame, req)) = Frame::decode_payload(request) else {
        return Ok(None);
    };
    let reply = frame.reply_frame();
    let mut rsp = Message::new(req.mti().response());
    // Echo what the terminal checks (3, 4, 11, 41, 42 must match its request).
    for n in [3u8, 4, 11, 25, 41, 42, 49, 60] {
        if let Ok(Some(v)) = req.string(n) {
            let _ = rsp.set_text(n, v);
        }
    }
    let tid = req.terminal_id()?.unwrap_or_default();
    let Some(term) = load_terminal(db, &tid)? else {
        rsp.set_text(39, "97")?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    };
    let now = Now::get();
    rsp.set_text(12, now.hhmmss.clone())?
        .set_text(13, now.mmdd.clone())?;
    let mti = req.mti();
    // Management messages carry no MAC.
    if mti == Mti::NETWORK_REQUEST {
        return sign_in(db, config, &term, &req, rsp, reply).map(Some);
    }
    if mti == Mti::NETWORK_ADVICE {
        rsp.set_text(39, "00")?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    }
    if mti == Mti::SETTLEMENT {
        return settle(db, &term, &req, rsp, reply, &now).map(Some);
    }
    if mti == Mti::BATCH_UPLOAD {
        rsp.set_text(39, "00")?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    }
    let Some(mak) = term.mak.as_ref() else {
        rsp.set_text(39, "A0")?; // not signed in: no working keys
        return Ok(Some(reply.encode_payload(&rsp)?));
    };
    let mac_ok = match Frame::mac_parts(request) {
        Some((mab, mac)) if req.has(64) => verify_cup_mac(mak, mab, mac)?,
        _ => false,
    };
    if !mac_ok {
        rsp.set_text(39, "A0")?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    }
    // Terminal and merchant id are bound together (anti code-jumping).
    let rc = if req.merchant_id()?.as_deref() != Some(term.mid.as_str()) {
        "03"
    } else {
        financial(db, &term, &req, &mut rsp, &now)?
    };
    rsp.set_text(39, rc)?;
    Ok(Some(reply.encode_payload_with_mac(&mut rsp, |mab| {
        cup_mac(mak, mab).unwrap_or([0; 8])
    })?))
}

struct Now {
    hhmmss: String,
    mmdd: String,
    /// For expiry checks against field 14 / the account's `YYMM`.
    yymm: String,
}

impl Now {
    fn get() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let rem = secs % 86_400;
        // Civil date from days since 1970 (Howard Hinnant's algorithm).
        let z = (secs / 86_400) as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        Self {
            hhmmss: format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
            mmdd: format!("{m:02}{d:02}"),
            yymm: format!("{:02}{m:02}", y % 100),
        }
    }
}

fn sign_in(
    db: &Connection,
    config: &HostConfig,
    term: &Terminal,
    req: &Message<'_>,
    mut rsp: Message<'_>,
    reply: Frame,
) -> Result<Vec<u8>, HostError> {
    let code = req.network_code()?.unwrap_or_else(|| "003".into());
    let with_tdk = code == "004" || config.issue_tdk;
    let keys = WorkingKeys {
        pik: SecretKey::tdes(&random_bytes(16))?,
        mak: SecretKey::tdes(&random_bytes(8))?,
        tdk: if with_tdk {
            Some(SecretKey::tdes(&random_bytes(16))?)
        } else {
            None
        },
    };
    let block = build_key_block(&term.tmk, &keys, &KeyBlockLayout::default())?;
    let batch = term.batch;
    db.execute(
        "UPDATE terminals SET pik = ?2, mak = ?3, tdk = ?4 WHERE tid = ?1",
        params![
            term.tid,
            keys.pik.expose(),
            keys.mak.expose(),
            keys.tdk.as_ref().map(|k| k.expose().to_vec())
        ],
    )?;
    rsp.set_text(37, "000000000000")?;
    rsp.set_text(39, "00")?;
    rsp.set_text(
        60,
        format!("00{batch:06}{}", if with_tdk { "004" } else { "003" }),
    )?;
    rsp.set_bytes(62, block)?;
    Ok(reply.encode_payload(&rsp)?)
}

fn amount_of(req: &Message<'_>) -> Result<i64, HostError> {
    Ok(req.amount()?.map(|a| a.minor() as i64).unwrap_or(0))
}

/// The card number from field 2, else from track 2 (decrypted when 53 says so).
fn card_number(term: &Terminal, req: &Message<'_>) -> Result<Option<String>, HostError> {
    if let Some(pan) = req.string(2)? {
        return Ok(Some(pan));
    }
    let Some(track) = req.string(35)? else {
        return Ok(None);
    };
    let encrypted = req
        .string(53)?
        .is_some_and(|s| s.as_bytes().get(2) == Some(&b'1'));
    let clear = match (encrypted, &term.tdk) {
        (true, Some(tdk)) => decrypt_track(tdk, &track)?,
        _ => track,
    };
    Ok(clear.split('=').next().map(String::from))
}

fn financial(
    db: &Connection,
    term: &Terminal,
    req: &Message<'_>,
    rsp: &mut Message<'_>,
    now: &Now,
) -> Result<&'static str, HostError> {
    let mti = req.mti();
    let proc_code = req.processing_code()?.unwrap_or_default();
    let kind60 = req.transaction_type()?.unwrap_or_default();
    let stan = req.stan()?.unwrap_or(0);
    let batch = req.batch_number()?.unwrap_or(term.batch);
    let amount = amount_of(req)?;
    let tx: &Connection = db;

    if mti == Mti::REVERSAL {
        let row: Option<(i64, String, i64, String, String)> = tx
            .query_row(
                "SELECT id, kind, amount, pan, state FROM txns WHERE tid = ?1 AND batch = ?2 AND stan = ?3 AND kind != 'reversal'",
                params![term.tid, batch, stan],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Option<String>>(3)?.unwrap_or_default(), r.get(4)?)),
            )
            .optional()?;
        if let Some((id, kind, amt, pan, state)) = row
            && state == "approved"
        {
            let delta = match kind.as_str() {
                "sale" | "completion" => amt,
                "void" | "refund" => -amt,
                _ => 0,
            };
            tx.execute(
                "UPDATE accounts SET balance = balance + ?2 WHERE pan = ?1",
                params![pan, delta],
            )?;
            tx.execute("UPDATE txns SET state = 'reversed' WHERE id = ?1", [id])?;
        }
        return Ok("00"); // idempotent: reversing twice, or something never seen, is fine
    }

    let Some(pan) = card_number(term, req)? else {
        return Ok("14");
    };
    let account: Option<(String, i64, String)> = tx
        .query_row(
            "SELECT pin, balance, expiry FROM accounts WHERE pan = ?1",
            [&pan],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((pin, balance, expiry)) = account else {
        return Ok("14");
    };
    if expiry.as_str() < now.yymm.as_str() {
        return Ok("54");
    }
    if let (Some(block), Some(pik)) = (req.text(52)?, term.pik.as_ref()) {
        match decrypt_pin_block(pik, &block, &pan) {
            Ok(entered) if entered.as_slice() == pin.as_bytes() => {}
            _ => return Ok("55"),
        }
    }
    let kind = match (mti.as_str(), proc_code.get(..2), kind60.as_str()) {
        ("0200", Some("31"), _) => "balance",
        ("0200", Some("00"), "20") => "completion",
        ("0200", Some("00"), _) => "sale",
        ("0200", Some("20"), _) => "void",
        ("0220", Some("20"), _) => "refund",
        ("0100", Some("03"), _) => "preauth",
        ("0100", Some("20"), _) => "preauth_cancel",
        _ => return Ok("12"),
    };
    if kind == "balance" {
        rsp.set_text(54, format!("1002156C{balance:012}"))?;
        return Ok("00");
    }
    let orig_rrn = req.string(37)?;
    let (rc, delta, orig_id): (&'static str, i64, Option<i64>) = match kind {
        "sale" | "completion" if amount > balance => ("51", 0, None),
        "sale" => ("00", -amount, None),
        "completion" => {
            let auth = req.string(38)?.unwrap_or_default();
            let pre: Option<i64> = tx
                .query_row(
                    "SELECT id FROM txns WHERE tid = ?1 AND kind = 'preauth' AND auth = ?2 AND state = 'approved'",
                    params![term.tid, auth],
                    |r| r.get(0),
                )
                .optional()?;
            match pre {
                Some(id) => ("00", -amount, Some(id)),
                None => ("25", 0, None),
            }
        }
        "preauth" => ("00", 0, None),
        "void" | "refund" | "preauth_cancel" => {
            let want = if kind == "preauth_cancel" {
                "preauth"
            } else {
                "sale"
            };
            let orig: Option<(i64, i64, String)> = tx
                .query_row(
                    "SELECT id, amount, state FROM txns WHERE tid = ?1 AND rrn = ?2 AND kind = ?3",
                    params![term.tid, orig_rrn, want],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            match orig {
                None => ("25", 0, None),
                Some((_, _, state)) if state != "approved" && kind != "refund" => ("12", 0, None),
                Some((_, orig_amount, _)) if kind == "void" && orig_amount != amount => {
                    ("64", 0, None)
                }
                Some((_, orig_amount, _)) if amount > orig_amount => ("61", 0, None),
                Some((id, _, _)) => (
                    "00",
                    if kind == "preauth_cancel" { 0 } else { amount },
                    Some(id),
                ),
            }
        }
        _ => ("12", 0, None),
    };
    let id: i64 = tx.query_row(
        "INSERT INTO txns(tid, batch, stan, kind, pan, amount, rc, state, orig_rrn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(tid, batch, stan, kind) DO UPDATE SET rc = excluded.rc RETURNING id",
        params![term.tid, batch, stan, kind, pan, amount, rc, if rc == "00" { "approved" } else { "declined" }, orig_rrn],
        |r| r.get(0),
    )?;
    let rrn = format!("{id:012}");
    let auth = format!("{:06}", (id * 7919) % 1_000_000);
    tx.execute(
        "UPDATE txns SET rrn = ?2, auth = ?3 WHERE id = ?1",
        params![id, rrn, auth],
    )?;
    if rc == "00" {
        tx.execute(
            "UPDATE accounts SET balance = balance + ?2 WHERE pan = ?1",
            params![pan, delta],
        )?;
        if let (Some(orig), true) = (
            orig_id,
            matches!(kind, "void" | "preauth_cancel" | "completion"),
        ) {
            let new_state = if kind == "completion" {
                "completed"
            } else {
                "voided"
            };
            tx.execute(
                "UPDATE txns SET state = ?2 WHERE id = ?1",
                params![orig, new_state],
            )?;
        }
    }
    rsp.set_text(37, rrn)?;
    if rc == "00" {
        rsp.set_text(38, auth)?;
    }
    Ok(rc)
}

fn settle(
    db: &Connection,
    term: &Terminal,
    req: &Message<'_>,
    mut rsp: Message<'_>,
    reply: Frame,
    now: &Now,
) -> Result<Vec<u8>, HostError> {
    let batch = req.batch_number()?.unwrap_or(term.batch);
    let sum = |kinds: &str| -> Result<(i64, i64), HostError> {
        let q = format!(
            "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM txns WHERE tid = ?1 AND batch = ?2 AND rc = '00' AND state != 'reversed' AND kind IN ({kinds})"
        );
        Ok(db.query_row(&q, params![term.tid, batch], |r| Ok((r.get(0)?, r.get(1)?)))?)
    };
    let (debit_amt, debit_cnt) = sum("'sale', 'completion'")?;
    let (credit_amt, credit_cnt) = sum("'void', 'refund'")?;
    let ours = format!("{debit_amt:012}{debit_cnt:03}{credit_amt:012}{credit_cnt:03}");
    let theirs = req.string(48)?.unwrap_or_default();
    let balanced = theirs.get(..30) == Some(ours.as_str());
    let mut f48 = ours;
    f48.push(if balanced { '1' } else { '2' });
    f48.push_str(&"0".repeat(31));
    rsp.set_text(48, f48)?;
    rsp.set_text(15, now.mmdd.clone())?;
    rsp.set_text(39, "00")?;
    if balanced {
        db.execute(
            "UPDATE terminals SET batch = batch + 1 WHERE tid = ?1",
            [&term.tid],
        )?;
    }
    Ok(reply.encode_payload(&rsp)?)
}
