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
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use pos_hal::MacAlgorithm;
use pos_io::frame;
use pos_terminal::crypto::{
    KeyBlockLayout, SecretKey, WorkingKeys, build_key_block, decrypt_pin_block, decrypt_track, mac,
    verify_mac,
};
use pos_terminal::iso8583::{Frame, Message, Mti};
use rusqlite::{Connection, OptionalExtension, params};

mod handlers;
mod ledger;
pub mod orders;
mod server;

use handlers::*;
use ledger::*;
use server::*;

/// Why the host could not start or a request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// Socket trouble.
    #[error("host socket: {0}")]
    Io(#[from] std::io::Error),
    /// A frame could not be read or written (truncated, oversize).
    #[error("host framing: {0}")]
    Frame(#[from] pos_io::frame::FrameError),
    /// The TLS identity is unusable.
    #[error("host TLS: {0}")]
    Tls(String),
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
    /// Acknowledge reversals without undoing anything (a host that loses what it
    /// acknowledged).
    pub forget_reversals: AtomicBool,
    /// Answer as if for another terminal (field 41 changed).
    pub other_terminal: AtomicBool,
}

/// A terminal the host knows.
#[derive(Clone)]
pub struct TerminalConfig {
    /// Field 41.
    pub tid: String,
    /// Field 42.
    pub mid: String,
    /// Terminal master key (16 bytes, TDES).
    pub tmk: Vec<u8>,
    /// The MAC this acquirer requires of this terminal (with X9.19 the MAK is double length).
    pub mac: MacAlgorithm,
}

/// What an issuer script tells a card to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptCommand {
    /// PIN UNBLOCK (`84 24 00 00`): the offline PIN try counter back to its limit.
    PinUnblock,
    /// APPLICATION BLOCK (`84 1E 00 00`).
    ApplicationBlock,
}

impl ScriptCommand {
    fn header(self) -> [u8; 4] {
        match self {
            ScriptCommand::PinUnblock => [0x84, 0x24, 0x00, 0x00],
            ScriptCommand::ApplicationBlock => [0x84, 0x1E, 0x00, 0x00],
        }
    }

    fn name(self) -> &'static str {
        match self {
            ScriptCommand::PinUnblock => "pin-unblock",
            ScriptCommand::ApplicationBlock => "application-block",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "pin-unblock" => Some(ScriptCommand::PinUnblock),
            "application-block" => Some(ScriptCommand::ApplicationBlock),
            _ => None,
        }
    }
}

/// An issuer script for one card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerScript {
    /// The card.
    pub pan: String,
    /// What it does.
    pub command: ScriptCommand,
}

/// A card account the host knows.
#[derive(Clone)]
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

/// How a MAC algorithm is stored in the ledger.
pub(crate) fn mac_name(algorithm: MacAlgorithm) -> &'static str {
    match algorithm {
        MacAlgorithm::X919 => "x9.19",
        MacAlgorithm::Sm4Cbc => "sm4",
        _ => "cup-ecb",
    }
}

/// The algorithm a stored name stands for (unknown names: the CUP default).
pub(crate) fn mac_algorithm(name: &str) -> MacAlgorithm {
    match name {
        "x9.19" => MacAlgorithm::X919,
        "sm4" => MacAlgorithm::Sm4Cbc,
        _ => MacAlgorithm::CupEcb,
    }
}

/// Ids only: the master key never appears in logs.
impl std::fmt::Debug for TerminalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalConfig")
            .field("tid", &self.tid)
            .field("mid", &self.mid)
            .field("tmk", &"<redacted>")
            .field("mac", &self.mac)
            .finish()
    }
}

/// The card number masked 6+4 and no PIN.
impl std::fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked = pos_hal::Pan::parse(&self.pan)
            .map(|p| p.to_string())
            .unwrap_or_else(|_| "<invalid PAN>".into());
        f.debug_struct("AccountConfig")
            .field("pan", &masked)
            .field("pin", &"<redacted>")
            .field("balance", &self.balance)
            .field("expiry", &self.expiry)
            .finish()
    }
}

/// Host configuration.
#[derive(Clone)]
pub struct HostConfig {
    /// SQLite file (created if missing).
    pub db: PathBuf,
    /// Port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// Terminals.
    pub terminals: Vec<TerminalConfig>,
    /// Accounts.
    pub accounts: Vec<AccountConfig>,
    /// Customers' payment codes (scan-code payment) and the account each pays from.
    pub payment_codes: Vec<(String, String)>,
    /// Issue a TDK at sign-in (60.3 004 always gets one).
    pub issue_tdk: bool,
    /// Issuer master key (AC) the chip cards' cryptograms are checked with; the simulated
    /// cards' [`TEST_IMK`](crate::emv::TEST_IMK) by default.
    pub imk: [u8; 16],
    /// Serve TLS with this certificate instead of plain TCP.
    pub tls: Option<ServerTls>,
    /// Issuer scripts waiting for a card: sent (72, after the second GENERATE AC) with every
    /// approval of a chip request of that card until a script result advice (0620) says how
    /// they ran.
    pub scripts: Vec<IssuerScript>,
    /// Issuer master key for script MACs (IMK-SMI); the simulated cards'
    /// [`TEST_IMK_SMI`](crate::emv::TEST_IMK_SMI) by default.
    pub imk_smi: [u8; 16],
    /// How far the host's clock is from this machine's (seconds; negative: behind). Answers
    /// carry the host's date and time (fields 12 and 13), which the slips print.
    pub clock_offset_secs: i64,
}

/// Keys, PINs and payment codes redacted; card numbers masked.
impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let codes: Vec<(String, String)> = self
            .payment_codes
            .iter()
            .map(|(code, pan)| {
                (
                    pos_terminal::slip::mask_payment_code(code),
                    pos_hal::Pan::parse(pan)
                        .map(|p| p.to_string())
                        .unwrap_or_else(|_| "<invalid PAN>".into()),
                )
            })
            .collect();
        f.debug_struct("HostConfig")
            .field("db", &self.db)
            .field("port", &self.port)
            .field("terminals", &self.terminals)
            .field("accounts", &self.accounts)
            .field("payment_codes", &codes)
            .field("issue_tdk", &self.issue_tdk)
            .field("imk", &"<redacted>")
            .field("clock_offset_secs", &self.clock_offset_secs)
            .field("scripts", &self.scripts.len())
            .field("imk_smi", &"<redacted>")
            .field("tls", &self.tls)
            .finish()
    }
}

/// The host's TLS identity: a certificate chain and its private key, in PEM.
#[derive(Clone)]
pub struct ServerTls {
    /// The host's certificate, then its issuers.
    pub cert_chain_pem: Vec<u8>,
    /// The private key of the first certificate.
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field(
                "cert_chain_pem",
                &format_args!("<{} bytes>", self.cert_chain_pem.len()),
            )
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl ServerTls {
    fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, HostError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let bad = |e: &dyn std::fmt::Display| HostError::Tls(e.to_string());
        let certs = CertificateDer::pem_slice_iter(&self.cert_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem).map_err(|e| bad(&e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| bad(&e))?;
        Ok(Arc::new(config))
    }
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
                mac: MacAlgorithm::CupEcb,
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
                    pan: "6225880123456783".into(),
                    pin: "123456".into(),
                    balance: 2_000_000,
                    expiry: "3012".into(),
                },
                AccountConfig {
                    pan: "6212345678900028".into(),
                    pin: "123456".into(),
                    balance: 100_000,
                    expiry: "2001".into(),
                },
            ],
            payment_codes: vec![
                (
                    crate::scanner::UNIONPAY_CODE.into(),
                    "6212345678901232".into(),
                ),
                (
                    crate::scanner::ALIPAY_CODE.into(),
                    "6225880123456783".into(),
                ),
            ],
            issue_tdk: true,
            imk: crate::emv::TEST_IMK,
            clock_offset_secs: 0,
            scripts: Vec::new(),
            imk_smi: crate::emv::TEST_IMK_SMI,
            tls: None,
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

/// Creates the schema (if needed) and puts the configured terminals and accounts in.
fn seed(db: &mut Connection, config: &HostConfig) -> Result<(), HostError> {
    db.execute_batch(SCHEMA)?;
    let tx = db.transaction()?;
    for t in &config.terminals {
        tx.execute(
            "INSERT INTO terminals(tid, mid, tmk, mac) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(tid) DO UPDATE SET mid = excluded.mid, tmk = excluded.tmk, mac = excluded.mac",
            params![t.tid, t.mid, t.tmk, mac_name(t.mac)],
        )?;
    }
    for a in &config.accounts {
        tx.execute(
            "INSERT OR IGNORE INTO accounts(pan, pin, balance, expiry) VALUES (?1, ?2, ?3, ?4)",
            params![a.pan, a.pin, a.balance, a.expiry],
        )?;
    }
    for script in &config.scripts {
        tx.execute(
            "INSERT OR IGNORE INTO scripts(pan, command) VALUES (?1, ?2)",
            params![script.pan, script.command.name()],
        )?;
    }
    for (code, pan) in &config.payment_codes {
        tx.execute(
            "INSERT OR REPLACE INTO payment_codes(code, pan) VALUES (?1, ?2)",
            params![code, pan],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The host's request handling without a socket, over an in-memory ledger with the demo
/// terminal and accounts: for fuzzing and unit tests of the handlers.
///
/// ```
/// let mut host = pos_sim::acquirer::OfflineHost::demo()?;
/// assert_eq!(host.answer(b"not a message")?, None, "unreadable input: no answer");
/// # Ok::<(), pos_sim::acquirer::HostError>(())
/// ```
#[derive(Debug)]
pub struct OfflineHost {
    db: Connection,
    config: HostConfig,
}

impl OfflineHost {
    /// The demo configuration in memory.
    pub fn demo() -> Result<Self, HostError> {
        let config = HostConfig::demo(":memory:");
        let mut db = Connection::open_in_memory()?;
        seed(&mut db, &config)?;
        Ok(Self { db, config })
    }

    /// Answers one request (TPDU + header + message, no length prefix); `None` for input the
    /// host cannot read (it would close the connection).
    pub fn answer(&mut self, request: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        let tx = self.db.transaction()?;
        let answer = handle(&tx, &self.config, request)?;
        tx.commit()?;
        Ok(answer)
    }
}

pub(super) fn random_bytes(n: usize) -> Vec<u8> {
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
        seed(&mut db, &config)?;
        drop(db);
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        let addr = listener.local_addr()?;
        let faults = Arc::new(Faults::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (jobs, queue) = mpsc::channel::<Job>();
        let ledger_db = open_db(&config.db)?;
        let ledger_config = config.clone();
        std::thread::Builder::new()
            .name("host-sim-ledger".into())
            .spawn(move || ledger(ledger_db, &ledger_config, &queue))?;
        let f = faults.clone();
        let tls = config
            .tls
            .as_ref()
            .map(ServerTls::server_config)
            .transpose()?;
        let thread =
            crate::server::accept_loop("host-sim", listener, stop.clone(), move |stream| {
                let _ = stream.set_nodelay(true);
                let result = match &tls {
                    Some(cfg) => rustls::ServerConnection::new(cfg.clone())
                        .map_err(|e| HostError::Tls(e.to_string()))
                        .and_then(|conn| serve(rustls::StreamOwned::new(conn, stream), &jobs, &f)),
                    None => serve(stream, &jobs, &f),
                };
                if let Err(e) = result {
                    eprintln!("host-sim: client ended: {e}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_configuration_never_prints_keys_pins_or_card_numbers() {
        let config = HostConfig::demo(Path::new("/tmp/unused.sqlite"));
        let text = format!("{config:?} {config:#?}");
        for secret in [
            "70F2A84C",
            "112, 242, 168",
            "\"123456\"",
            "\"1234\"",
            "4761739001010010",
            "621234567890",
            "6225880123456789012",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("621234******1232"), "{text}");
    }
}
