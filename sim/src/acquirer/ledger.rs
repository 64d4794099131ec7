//! The ledger: schema, the single writer thread with group commit, terminal records.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn open_db(path: &Path) -> Result<Connection, HostError> {
    let db = Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(10))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "FULL")?;
    Ok(db)
}

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS terminals(
    tid TEXT PRIMARY KEY, mid TEXT NOT NULL, tmk BLOB NOT NULL,
    pik BLOB, mak BLOB, tdk BLOB, batch INTEGER NOT NULL DEFAULT 1,
    mac TEXT NOT NULL DEFAULT 'cup-ecb');
CREATE TABLE IF NOT EXISTS accounts(
    pan TEXT PRIMARY KEY, pin TEXT NOT NULL, balance INTEGER NOT NULL, expiry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payment_codes(
    code TEXT PRIMARY KEY, pan TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders(
    id TEXT PRIMARY KEY, tid TEXT NOT NULL, amount INTEGER NOT NULL,
    state TEXT NOT NULL, pan TEXT, rrn TEXT, auth TEXT,
    created TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE IF NOT EXISTS txns(
    id INTEGER PRIMARY KEY AUTOINCREMENT, tid TEXT NOT NULL, batch INTEGER NOT NULL,
    stan INTEGER NOT NULL, kind TEXT NOT NULL, pan TEXT, amount INTEGER NOT NULL,
    rrn TEXT, auth TEXT, rc TEXT NOT NULL, state TEXT NOT NULL, orig_rrn TEXT,
    created TEXT NOT NULL DEFAULT (datetime('now')),
    UNIQUE(tid, batch, stan, kind));
CREATE TABLE IF NOT EXISTS scripts(
    id INTEGER PRIMARY KEY AUTOINCREMENT, pan TEXT NOT NULL, command TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | done | failed
    sent INTEGER NOT NULL DEFAULT 0,
    UNIQUE(pan, command));
";

/// One request for the ledger thread and where its answer goes.
pub(super) struct Job {
    pub(super) request: Vec<u8>,
    pub(super) answer: mpsc::Sender<Option<Vec<u8>>>,
    /// Keep what the request did; `false` answers it and rolls it back (a host that loses
    /// what it acknowledged: the bench runner's books must see it).
    pub(super) keep: bool,
}

/// The only writer: takes every request that is waiting, handles each in its own savepoint and
/// commits them together (one fsync for the group), then releases the answers. An answer is
/// never sent before its record is durable.
pub(super) fn ledger(mut db: Connection, config: &HostConfig, queue: &mpsc::Receiver<Job>) {
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
                        if job.keep {
                            sp.commit()?;
                        }
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

pub(super) struct Terminal {
    pub(super) tid: String,
    pub(super) mid: String,
    pub(super) tmk: SecretKey,
    pub(super) pik: Option<SecretKey>,
    pub(super) mak: Option<SecretKey>,
    pub(super) tdk: Option<SecretKey>,
    pub(super) batch: u32,
    pub(super) mac: MacAlgorithm,
}

pub(super) fn load_terminal(db: &Connection, tid: &str) -> Result<Option<Terminal>, HostError> {
    let row = db
        .query_row(
            "SELECT mid, tmk, pik, mak, tdk, batch, mac FROM terminals WHERE tid = ?1",
            [tid],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                    r.get::<_, Option<Vec<u8>>>(4)?,
                    r.get::<_, u32>(5)?,
                    r.get::<_, String>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((mid, tmk, pik, mak, tdk, batch, mac)) = row else {
        return Ok(None);
    };
    // 国密 terminals (SM4 MAC) have SM4 master and working keys.
    let mac = mac_algorithm(&mac);
    let sm4 = mac == MacAlgorithm::Sm4Cbc;
    let make = move |b: &[u8]| {
        if sm4 {
            SecretKey::sm4(b)
        } else {
            SecretKey::tdes(b)
        }
    };
    let key = |b: Option<Vec<u8>>| b.and_then(|b| make(&b).ok());
    Ok(Some(Terminal {
        tid: tid.into(),
        mid,
        tmk: make(&tmk)?,
        pik: key(pik),
        mak: key(mak),
        tdk: key(tdk),
        batch,
        mac,
    }))
}
