//! The terminal journal in SQLite: WAL, `synchronous = FULL`, every change one transaction, so
//! a record is on disk before its request leaves and survives `kill -9` and power loss.

use std::path::{Path, PathBuf};

use pos_hal::{ErrorKind, ErrorType};
use pos_terminal::journal::{Journal, Outcome, Record, ReversalReason};
use rusqlite::{Connection, OptionalExtension, params};

/// Why the journal failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// SQLite failed (disk full, file not writable, locked).
    #[error("journal database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A row the journal wrote does not read back (a state it does not know).
    #[error("journal record {id} is corrupt: {what}")]
    Corrupt {
        /// The record.
        id: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A file offered for import is no journal, or a damaged one; nothing was replaced.
    #[error("{path} is not a sound journal: {why}")]
    NotAJournal {
        /// The file.
        path: PathBuf,
        /// SQLite's integrity check or the missing table.
        why: String,
    },
    /// The export's target exists: an export never overwrites.
    #[error("{0} exists already; an export never overwrites")]
    Exists(PathBuf),
    /// Moving the imported copy into place failed.
    #[error("journal file: {0}")]
    Io(#[from] std::io::Error),
    /// No random bytes for the operator passwords' salt seed.
    #[error(transparent)]
    NoRandom(#[from] crate::NoRandomSource),
}

impl pos_hal::Error for JournalError {
    fn kind(&self) -> ErrorKind {
        match self {
            JournalError::Db(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                ErrorKind::Busy
            }
            _ => ErrorKind::Other,
        }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters(name, value) VALUES ('stan', 0), ('voucher', 0), ('batch', 1);
CREATE TABLE IF NOT EXISTS records(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stan INTEGER NOT NULL, batch INTEGER NOT NULL, voucher INTEGER NOT NULL,
    request BLOB NOT NULL,
    state TEXT NOT NULL,          -- pending | approved | declined | unknown | reversed
    rc TEXT, rrn TEXT, auth TEXT, reason TEXT,
    created TEXT NOT NULL DEFAULT (datetime('now')));
CREATE INDEX IF NOT EXISTS records_voucher ON records(voucher);
CREATE TABLE IF NOT EXISTS operators(
    id TEXT PRIMARY KEY, password TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS terminal(name TEXT PRIMARY KEY, value BLOB NOT NULL);
";

/// Columns added after the first schema: added to older journals when they are opened.
const ADDED_COLUMNS: &[(&str, &str)] = &[("icc", "BLOB"), ("host_time", "TEXT")];

fn migrate(db: &Connection) -> Result<(), JournalError> {
    let mut stmt = db.prepare("SELECT name FROM pragma_table_info('records')")?;
    let have: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for (name, kind) in ADDED_COLUMNS {
        if !have.iter().any(|h| h == name) {
            db.execute_batch(&format!("ALTER TABLE records ADD COLUMN {name} {kind}"))?;
        }
    }
    Ok(())
}

/// The SQLite journal.
///
/// ```
/// use pos_platform::SqliteJournal;
/// use pos_terminal::journal::{Journal, Outcome};
/// let mut j = SqliteJournal::open_in_memory()?;
/// let stan = j.next_stan()?;
/// let record = j.begin(stan, b"request")?;
/// j.finish(record.id, &Outcome::Declined { rc: "51".into() })?;
/// assert_eq!(j.last()?.map(|r| r.outcome), Some(Outcome::Declined { rc: "51".into() }));
/// # Ok::<(), pos_platform::JournalError>(())
/// ```
#[derive(Debug)]
pub struct SqliteJournal {
    db: Connection,
}

fn counter(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<u32, JournalError> {
    Ok(tx.query_row(
        "UPDATE counters SET value = value % 999999 + 1 WHERE name = ?1 RETURNING value",
        [name],
        |r| r.get(0),
    )?)
}

fn read_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Record, String, [Option<String>; 5])> {
    Ok((
        Record::new(
            r.get::<_, i64>(0)? as u64,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            Outcome::Pending,
        ),
        r.get(5)?,
        [r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(12)?],
    ))
    .and_then(|(record, state, texts)| {
        let icc: Option<Vec<u8>> = r.get(10)?;
        let created: Option<i64> = r.get(11)?;
        let record = record
            .with_icc(icc.unwrap_or_default())
            .with_created(created.and_then(|c| u64::try_from(c).ok()));
        Ok((record, state, texts))
    })
}

fn with_outcome(
    (mut record, state, [rc, rrn, auth, reason, host_time]): (Record, String, [Option<String>; 5]),
) -> Result<Record, JournalError> {
    record.outcome = match state.as_str() {
        "pending" => Outcome::Pending,
        "approved" => Outcome::Approved {
            rrn: rrn.unwrap_or_default(),
            auth: auth.unwrap_or_default(),
            host_time: host_time.unwrap_or_default(),
        },
        "declined" => Outcome::Declined {
            rc: rc.unwrap_or_default(),
        },
        "unknown" => Outcome::Unknown(ReversalReason::from_code(reason.as_deref().unwrap_or("06"))),
        "reversed" => Outcome::Reversed,
        "unanswered" => Outcome::Unanswered,
        _ => {
            return Err(JournalError::Corrupt {
                id: record.id,
                what: "unknown state",
            });
        }
    };
    Ok(record)
}

const COLUMNS: &str = "id, stan, batch, voucher, request, state, rc, rrn, auth, reason, icc, \
    CAST(strftime('%s', created) AS INTEGER), host_time";

impl SqliteJournal {
    /// Opens (or creates) the journal file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let db = Connection::open(path)?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(SCHEMA)?;
        migrate(&db)?;
        Ok(Self { db })
    }

    /// A journal in memory (tests, demos).
    pub fn open_in_memory() -> Result<Self, JournalError> {
        let db = Connection::open_in_memory()?;
        db.execute_batch(SCHEMA)?;
        migrate(&db)?;
        Ok(Self { db })
    }

    fn query(&self, sql_tail: &str, param: Option<u32>) -> Result<Vec<Record>, JournalError> {
        let sql = format!("SELECT {COLUMNS} FROM records {sql_tail}");
        let mut stmt = self.db.prepare(&sql)?;
        let rows = match param {
            Some(p) => stmt
                .query_map([p], read_record)?
                .collect::<Result<Vec<_>, _>>()?,
            None => stmt
                .query_map([], read_record)?
                .collect::<Result<Vec<_>, _>>()?,
        };
        rows.into_iter().map(with_outcome).collect()
    }
}

impl SqliteJournal {
    /// SQLite's quick integrity check: `Ok(None)` when sound, else the first problem found.
    pub fn quick_check(&self) -> Result<Option<String>, JournalError> {
        let verdict: String = self.db.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        Ok((verdict != "ok").then_some(verdict))
    }

    /// Exports the whole journal — records, counters (STAN, voucher, batch) and the operator
    /// table — to a new file `to`, consistent even while the terminal runs (`VACUUM INTO`).
    ///
    /// ```
    /// use pos_platform::SqliteJournal;
    /// use pos_terminal::journal::Journal;
    /// let dir = std::env::temp_dir().join(format!("pos-export-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let mut j = SqliteJournal::open(dir.join("journal.sqlite"))?;
    /// j.set_batch(7)?;
    /// j.export(dir.join("backup.sqlite"))?;
    /// SqliteJournal::import(dir.join("backup.sqlite"), dir.join("restored.sqlite"))?;
    /// assert_eq!(SqliteJournal::open(dir.join("restored.sqlite"))?.batch()?, 7);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export(&self, to: impl AsRef<Path>) -> Result<(), JournalError> {
        let to = to.as_ref();
        if to.exists() {
            return Err(JournalError::Exists(to.to_path_buf()));
        }
        let target = to.to_str().ok_or_else(|| {
            JournalError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the export path is not UTF-8",
            ))
        })?;
        self.db.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    /// Imports an exported journal as the journal file `into`: the file is checked first
    /// (integrity, the journal's tables), copied beside `into` and moved over it in one
    /// rename, so a bad file or a crash half-way leaves the old journal as it was. Call it
    /// with no journal open on `into`.
    pub fn import(from: impl AsRef<Path>, into: impl AsRef<Path>) -> Result<(), JournalError> {
        let (from, into) = (from.as_ref(), into.as_ref());
        let not_a_journal = |why: String| JournalError::NotAJournal {
            path: from.to_path_buf(),
            why,
        };
        let source = Connection::open_with_flags(
            from,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| not_a_journal(e.to_string()))?;
        let verdict: String = source
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| not_a_journal(e.to_string()))?;
        if verdict != "ok" {
            return Err(not_a_journal(verdict));
        }
        for table in ["counters", "records", "operators"] {
            let found: i64 = source.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )?;
            if found == 0 {
                return Err(not_a_journal(format!("no {table} table")));
            }
        }
        let staging = into.with_extension("import");
        let _ = std::fs::remove_file(&staging);
        let staging_text = staging.to_str().ok_or_else(|| {
            JournalError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the journal path is not UTF-8",
            ))
        })?;
        source.execute("VACUUM INTO ?1", [staging_text])?;
        drop(source);
        if into.exists() {
            // Fold the old journal's WAL into its file first: a crash before the rename then
            // leaves it whole, and no old WAL is left to be replayed onto the new file.
            let old = Connection::open(into)?;
            old.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            // An older backup must not rewind the STAN or the voucher number: the host would
            // see a STAN twice, a slip would carry a voucher number twice.
            let staged = Connection::open(&staging)?;
            for name in ["stan", "voucher"] {
                let current: Option<i64> = old
                    .query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| {
                        r.get(0)
                    })
                    .ok();
                if let Some(current) = current {
                    staged.execute(
                        "UPDATE counters SET value = max(value, ?2) WHERE name = ?1",
                        params![name, current],
                    )?;
                }
            }
            drop(staged);
            drop(old);
        }
        for suffix in ["-wal", "-shm"] {
            let mut side = into.as_os_str().to_owned();
            side.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(side));
        }
        std::fs::rename(&staging, into)?;
        // Older exports gain the columns added since.
        SqliteJournal::open(into).map(drop)
    }

    /// The operator table; a new terminal's defaults (cashier 01 / 0000, supervisor 00) the
    /// first time.
    pub fn operators(&mut self) -> Result<pos_terminal::operators::Operators, JournalError> {
        let mut stmt = self
            .db
            .prepare("SELECT id, password, failures FROM operators ORDER BY id")?;
        let rows: Vec<(String, String, u8)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        let seed = self.salt_seed()?;
        if rows.is_empty() {
            let defaults = pos_terminal::operators::Operators::new_terminal(seed);
            self.save_operators(&defaults)?;
            return Ok(defaults);
        }
        let (table, clear) = pos_terminal::operators::Operators::from_rows(
            rows.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), *c)),
            seed,
        );
        if clear {
            // An older journal kept passwords in clear: write them back stretched.
            self.save_operators(&table)?;
            self.db.execute_batch("VACUUM")?;
        }
        Ok(table)
    }

    /// The operator logged in, kept across power cycles (`None` on a new terminal).
    pub fn logged_in(&self) -> Result<Option<String>, JournalError> {
        let stored: Option<Vec<u8>> = self
            .db
            .query_row(
                "SELECT value FROM terminal WHERE name = 'logged_in'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(stored.and_then(|id| String::from_utf8(id).ok()))
    }

    /// Keeps `operator` as the one logged in.
    pub fn set_logged_in(&mut self, operator: &str) -> Result<(), JournalError> {
        self.db.execute(
            "INSERT OR REPLACE INTO terminal(name, value) VALUES ('logged_in', ?1)",
            [operator.as_bytes()],
        )?;
        Ok(())
    }

    /// This terminal's seed for password salts, made once from the OS's randomness.
    fn salt_seed(&mut self) -> Result<[u8; 16], JournalError> {
        let stored: Option<Vec<u8>> = self
            .db
            .query_row(
                "SELECT value FROM terminal WHERE name = 'salt_seed'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(seed) = stored.and_then(|s| <[u8; 16]>::try_from(s).ok()) {
            return Ok(seed);
        }
        let seed: [u8; 16] = crate::random()?;
        self.db.execute(
            "INSERT OR REPLACE INTO terminal(name, value) VALUES ('salt_seed', ?1)",
            [seed.as_slice()],
        )?;
        Ok(seed)
    }

    /// Replaces the operator table in one transaction.
    pub fn save_operators(
        &mut self,
        operators: &pos_terminal::operators::Operators,
    ) -> Result<(), JournalError> {
        let tx = self.db.transaction()?;
        tx.execute("DELETE FROM operators", [])?;
        for op in operators.iter() {
            tx.execute(
                "INSERT INTO operators(id, password, failures) VALUES (?1, ?2, ?3)",
                params![
                    String::from_utf8_lossy(&op.id),
                    op.stored_password(),
                    op.failures
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl ErrorType for SqliteJournal {
    type Error = JournalError;
}

impl Journal for SqliteJournal {
    fn next_stan(&mut self) -> Result<u32, JournalError> {
        let tx = self.db.transaction()?;
        let stan = counter(&tx, "stan")?;
        tx.commit()?;
        Ok(stan)
    }

    fn batch(&mut self) -> Result<u32, JournalError> {
        Ok(self
            .db
            .query_row("SELECT value FROM counters WHERE name = 'batch'", [], |r| {
                r.get(0)
            })?)
    }

    fn set_batch(&mut self, batch: u32) -> Result<(), JournalError> {
        self.db.execute(
            "UPDATE counters SET value = ?1 WHERE name = 'batch'",
            [batch],
        )?;
        Ok(())
    }

    fn begin(&mut self, stan: u32, request: &[u8]) -> Result<Record, JournalError> {
        let tx = self.db.transaction()?;
        let voucher = counter(&tx, "voucher")?;
        let batch: u32 =
            tx.query_row("SELECT value FROM counters WHERE name = 'batch'", [], |r| {
                r.get(0)
            })?;
        tx.execute(
            "INSERT INTO records(stan, batch, voucher, request, state) VALUES (?1, ?2, ?3, ?4, 'pending')",
            params![stan, batch, voucher, request],
        )?;
        let id = tx.last_insert_rowid() as u64;
        tx.commit()?;
        Ok(Record::new(
            id,
            stan,
            batch,
            voucher,
            request.to_vec(),
            Outcome::Pending,
        ))
    }

    fn finish(&mut self, id: u64, outcome: &Outcome) -> Result<(), JournalError> {
        let host_time = match outcome {
            Outcome::Approved { host_time, .. } if !host_time.is_empty() => {
                Some(host_time.as_str())
            }
            _ => None,
        };
        let (state, rc, rrn, auth, reason) = match outcome {
            Outcome::Pending => ("pending", None, None, None, None),
            Outcome::Approved { rrn, auth, .. } => (
                "approved",
                Some("00"),
                Some(rrn.as_str()),
                Some(auth.as_str()),
                None,
            ),
            Outcome::Declined { rc } => ("declined", Some(rc.as_str()), None, None, None),
            Outcome::Unknown(r) => ("unknown", None, None, None, Some(r.code())),
            Outcome::Reversed => ("reversed", None, None, None, None),
            Outcome::Unanswered => ("unanswered", None, None, None, None),
            _ => (
                "unknown",
                None,
                None,
                None,
                Some(ReversalReason::Other.code()),
            ),
        };
        // A reversal keeps what the host had said (rc, RRN) for the records query.
        let changed = self.db.execute(
            "UPDATE records SET state = ?2, rc = COALESCE(?3, rc), rrn = COALESCE(?4, rrn),
                 auth = COALESCE(?5, auth), reason = COALESCE(?6, reason),
                 host_time = COALESCE(?7, host_time) WHERE id = ?1",
            params![id as i64, state, rc, rrn, auth, reason, host_time],
        )?;
        if changed == 0 {
            return Err(JournalError::Corrupt {
                id,
                what: "no such record",
            });
        }
        Ok(())
    }

    fn set_icc(&mut self, id: u64, icc: &[u8]) -> Result<(), JournalError> {
        let changed = self.db.execute(
            "UPDATE records SET icc = ?2 WHERE id = ?1",
            params![id as i64, icc],
        )?;
        if changed == 0 {
            return Err(JournalError::Corrupt {
                id,
                what: "no such record",
            });
        }
        Ok(())
    }

    fn reversals_due(&mut self) -> Result<Vec<Record>, JournalError> {
        // Pending at this point means the power went while waiting: unknown, reverse it.
        self.db.execute(
            "UPDATE records SET state = 'unknown', reason = '98' WHERE state = 'pending'",
            [],
        )?;
        self.query("WHERE state = 'unknown' ORDER BY id", None)
    }

    fn by_voucher(&mut self, voucher: u32) -> Result<Option<Record>, JournalError> {
        Ok(self
            .query("WHERE voucher = ?1 ORDER BY id DESC LIMIT 1", Some(voucher))?
            .into_iter()
            .next())
    }

    fn last(&mut self) -> Result<Option<Record>, JournalError> {
        Ok(self
            .query("ORDER BY id DESC LIMIT 1", None)?
            .into_iter()
            .next())
    }

    fn records(&mut self, batch: u32) -> Result<Vec<Record>, JournalError> {
        self.query("WHERE batch = ?1 ORDER BY id", Some(batch))
    }

    fn batch_started(&mut self, batch: u32) -> Result<Option<u64>, JournalError> {
        let secs: Option<i64> = self.db.query_row(
            "SELECT CAST(strftime('%s', MIN(created)) AS INTEGER) FROM records WHERE batch = ?1",
            [batch],
            |r| r.get(0),
        )?;
        Ok(secs.and_then(|s| u64::try_from(s).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_starts_with_its_first_record() {
        let mut j = SqliteJournal::open_in_memory().expect("journal");
        let batch = j.batch().expect("batch");
        assert_eq!(j.batch_started(batch).expect("query"), None);
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let stan = j.next_stan().expect("stan");
        j.begin(stan, b"request").expect("begin");
        let started = j.batch_started(batch).expect("query").expect("started");
        assert!(
            started + 2 >= before && started <= before + 2,
            "{started} vs {before}"
        );
        assert_eq!(j.batch_started(batch + 1).expect("query"), None);
    }

    #[test]
    fn a_journal_of_the_first_schema_gains_the_chip_column_and_keeps_its_records() {
        let dir = std::env::temp_dir().join(format!("pos-journal-old-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("journal.sqlite");
        let _ = std::fs::remove_file(&path);
        {
            let old = Connection::open(&path).expect("db");
            old.execute_batch(SCHEMA).expect("first schema");
            old.execute(
                "INSERT INTO records(stan, batch, voucher, request, state) VALUES (1, 1, 1, x'00', 'approved')",
                [],
            )
            .expect("old record");
        }
        let mut j = SqliteJournal::open(&path).expect("opens and migrates");
        let record = j.last().expect("last").expect("the old record");
        assert!(record.icc.is_empty());
        j.set_icc(record.id, &[0x9F, 0x26, 0x01, 0xAA])
            .expect("set");
        drop(j);
        let mut j = SqliteJournal::open(&path).expect("reopens");
        assert_eq!(
            j.last().expect("last").expect("record").icc,
            [0x9F, 0x26, 0x01, 0xAA]
        );
        assert!(j.set_icc(999, &[]).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_older_journal_with_passwords_in_clear_keeps_them_stretched_only() {
        let dir = std::env::temp_dir().join(format!("pos-journal-ops-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("journal.sqlite");
        let _ = std::fs::remove_file(&path);
        {
            let old = Connection::open(&path).expect("db");
            old.pragma_update(None, "journal_mode", "WAL").expect("wal");
            old.execute_batch(SCHEMA).expect("schema");
            old.execute(
                "INSERT INTO operators(id, password, failures) VALUES ('00', '97531864', 0), ('01', '2468', 1)",
                [],
            )
            .expect("clear rows");
        }
        let mut j = SqliteJournal::open(&path).expect("open");
        let mut ops = j.operators().expect("operators");
        assert_eq!(
            ops.login("00", "97531864"),
            Ok(pos_terminal::operators::Role::Supervisor)
        );
        drop(j);
        let mut j = SqliteJournal::open(&path).expect("reopen");
        let mut again = j.operators().expect("operators");
        assert_eq!(
            again.login("01", "2468"),
            Ok(pos_terminal::operators::Role::Cashier)
        );
        drop(j);
        for file in ["journal.sqlite", "journal.sqlite-wal"] {
            let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
            assert!(
                !bytes.windows(8).any(|w| w == b"97531864"),
                "{file} still holds a password in clear"
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn counters_and_records_survive_reopening() {
        let dir = std::env::temp_dir().join(format!("pos-journal-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("journal.sqlite");
        let _ = std::fs::remove_file(&path);
        let id = {
            let mut j = SqliteJournal::open(&path).expect("open");
            assert_eq!(j.next_stan().expect("stan"), 1);
            assert_eq!(j.next_stan().expect("stan"), 2);
            j.set_batch(7).expect("batch");
            let r = j.begin(2, b"req").expect("begin");
            assert_eq!((r.voucher, r.batch), (1, 7));
            r.id
        };
        // "Power lost" while the request was out: pending comes back as a reversal due.
        let mut j = SqliteJournal::open(&path).expect("reopen");
        assert_eq!(j.next_stan().expect("stan"), 3, "never handed out twice");
        let due = j.reversals_due().expect("due");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].id, id);
        assert_eq!(due[0].outcome, Outcome::Unknown(ReversalReason::NoAnswer));
        j.finish(id, &Outcome::Reversed).expect("acknowledged");
        assert!(j.reversals_due().expect("due").is_empty());
        assert_eq!(
            j.by_voucher(1).expect("q").map(|r| r.outcome),
            Some(Outcome::Reversed)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_stan_wraps_after_999999() {
        let mut j = SqliteJournal::open_in_memory().expect("open");
        j.db.execute("UPDATE counters SET value = 999999 WHERE name = 'stan'", [])
            .expect("set");
        assert_eq!(j.next_stan().expect("stan"), 1);
    }
}
