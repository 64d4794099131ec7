//! The terminal without a screen: [`pos_terminal::flows::SaleFlow`] wired to real devices — the
//! host link with sign-in, the SQLite journal, an ESC/POS printer, a PC/SC card reader and a
//! software PIN pad. The `pos` runner drives it from a script; the sale benchmark drives it
//! directly.

use std::path::PathBuf;
use std::time::Duration;

use pos_devices::{DynCodeScanner, DynIccReader, DynMagstripeReader, DynPiccReader, DynPrinter};
use pos_emv::contact::ONLINE_TAGS;
use pos_emv::{CapkSet, Contact, CvmStep, HostAnswer, TerminalConfig, TransactionData};
use pos_hal::{
    Amount, CancelToken, DateTime, EncryptedPinBlock, Error as _, InlineBytes, Key, KeySlot,
    KeyStore, MacAlgorithm, Pan, PinBlockFormat, Receipt, ReceiptPrinter, Secret, Swipe, Track2,
    TrackRead,
};
use pos_platform::{SqliteJournal, TcpHostLink};
use pos_terminal::crypto::{KeyBlockLayout, SecretKey, SoftwareKeyStore};
use pos_terminal::flows::{
    Action, CardSource, ChipCard, Event, Flow, OnlineOutcome, OriginalSale, SettleFailure,
    Transaction,
};
use pos_terminal::host::HostLink;
use pos_terminal::iso8583::{Frame, Message, Mti};
use pos_terminal::journal::{Journal, Outcome, Record};
use pos_terminal::online::{Acquirer, Online};
use pos_terminal::requests::{self, Card, Entry};
use pos_terminal::slip::SaleSlip;

mod chip;

/// What the terminal is connected to and who it is.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Acquirer host `host:port`.
    pub host: String,
    /// Receipt printer selector (`None`: receipts go to stdout as text).
    pub printer: Option<String>,
    /// Contact card reader selector.
    pub reader: Option<String>,
    /// Contactless reader selector (qPBOC taps).
    pub contactless: Option<String>,
    /// Magnetic stripe reader selector: a script's bare `swipe` line waits for a swipe on it.
    pub magstripe: Option<String>,
    /// Code scanner selector: a script's bare `scan` line waits for a scan on it.
    pub scanner: Option<String>,
    /// The journal file.
    pub journal: PathBuf,
    /// Terminal master key (hex).
    pub tmk: String,
    /// Terminal id (41).
    pub terminal_id: String,
    /// Merchant id (42).
    pub merchant_id: String,
    /// Pull the plug at this step of the sale (power-loss tests).
    pub kill_at: Option<KillAt>,
    /// CA public keys for offline data authentication (`[[capk]]` TOML); `None` trusts the
    /// simulated cards' test CA (`sim/fixtures/emv-ca/capk.toml`) and nothing else.
    pub capk: Option<PathBuf>,
    /// How long the host has to answer a request (10 s unless a bench wants its faults
    /// found sooner).
    pub host_timeout: Duration,
    /// The EMV terminal configuration (TOML: terminal data, `[[aid]]` with TACs, limits,
    /// DOLs, the EC limit); `None` is [`TerminalConfig::china_pos`].
    pub emv_config: Option<PathBuf>,
    /// The acquirer's MAC algorithm, which also says the key family: with
    /// [`MacAlgorithm::Sm4Cbc`] the master and working keys are SM4 (国密), PIN blocks are
    /// 16-byte SM4 blocks and requests use the SM dialect's field 52.
    pub mac: MacAlgorithm,
}

impl Settings {
    /// The host simulator's demo terminal at `host`, journal at `journal`, no devices.
    pub fn demo(host: impl Into<String>, journal: impl Into<PathBuf>) -> Self {
        Self {
            host: host.into(),
            printer: None,
            reader: None,
            contactless: None,
            magstripe: None,
            scanner: None,
            journal: journal.into(),
            tmk: "70F2A84CCBC2AE8625CBB0F2C22AB923".into(),
            terminal_id: "12345678".into(),
            merchant_id: "123456789012345".into(),
            kill_at: None,
            capk: None,
            host_timeout: Duration::from_secs(10),
            emv_config: None,
            mac: MacAlgorithm::CupEcb,
        }
    }
}

/// The acquirer's MAC algorithm as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MacChoice {
    /// CUP's ECB MAC (XOR of the blocks, one DES encryption): weak, for acquirers that
    /// require it.
    CupEcb,
    /// ANSI X9.19 retail MAC under a double-length key.
    #[value(name = "x9.19")]
    X919,
    /// SM4 CBC-MAC, SM4 keys everywhere (国密).
    Sm4,
}

impl MacChoice {
    /// The algorithm.
    pub fn algorithm(self) -> MacAlgorithm {
        match self {
            MacChoice::CupEcb => MacAlgorithm::CupEcb,
            MacChoice::X919 => MacAlgorithm::X919,
            MacChoice::Sm4 => MacAlgorithm::Sm4Cbc,
        }
    }
}

/// Where `--kill-at` pulls the plug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KillAt {
    /// The sale is journaled; nothing was sent.
    BeforeSend,
    /// The host answered; the answer is not journaled.
    AfterAnswer,
    /// The merchant copy is printed; the cardholder copy is not.
    BetweenReceipts,
}

/// Ends the process as a power cut would: no destructors, no flushing.
fn pull_the_plug() -> ! {
    let pid = std::process::id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status();
    std::process::abort()
}

/// The journal, with a plug that `--kill-at before-send` pulls once the sale is journaled.
struct PluggedJournal {
    inner: SqliteJournal,
    kill_after_begin: bool,
}

impl pos_hal::ErrorType for PluggedJournal {
    type Error = <SqliteJournal as pos_hal::ErrorType>::Error;
}

impl Journal for PluggedJournal {
    fn next_stan(&mut self) -> Result<u32, Self::Error> {
        self.inner.next_stan()
    }
    fn batch(&mut self) -> Result<u32, Self::Error> {
        self.inner.batch()
    }
    fn set_batch(&mut self, batch: u32) -> Result<(), Self::Error> {
        self.inner.set_batch(batch)
    }
    fn begin(&mut self, stan: u32, request: &[u8]) -> Result<Record, Self::Error> {
        let record = self.inner.begin(stan, request)?;
        if self.kill_after_begin {
            pull_the_plug();
        }
        Ok(record)
    }
    fn finish(&mut self, id: u64, outcome: &Outcome) -> Result<(), Self::Error> {
        self.inner.finish(id, outcome)
    }
    fn set_icc(&mut self, id: u64, icc: &[u8]) -> Result<(), Self::Error> {
        self.inner.set_icc(id, icc)
    }
    fn reversals_due(&mut self) -> Result<Vec<Record>, Self::Error> {
        self.inner.reversals_due()
    }
    fn by_voucher(&mut self, voucher: u32) -> Result<Option<Record>, Self::Error> {
        self.inner.by_voucher(voucher)
    }
    fn last(&mut self) -> Result<Option<Record>, Self::Error> {
        self.inner.last()
    }
    fn records(&mut self, batch: u32) -> Result<Vec<Record>, Self::Error> {
        self.inner.records(batch)
    }
    fn batch_started(&mut self, batch: u32) -> Result<Option<u64>, Self::Error> {
        self.inner.batch_started(batch)
    }
}

/// The host link, with a plug that `--kill-at after-answer` pulls when an answer arrives.
struct PluggedLink {
    inner: TcpHostLink,
    kill_after_answer: bool,
}

impl pos_hal::ErrorType for PluggedLink {
    type Error = <TcpHostLink as pos_hal::ErrorType>::Error;
}

impl HostLink for PluggedLink {
    fn exchange_matching(
        &mut self,
        request: &[u8],
        timeout: Duration,
        cancel: &CancelToken,
        is_answer: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>, Self::Error> {
        let answer = self
            .inner
            .exchange_matching(request, timeout, cancel, is_answer)?;
        if self.kill_after_answer {
            pull_the_plug();
        }
        Ok(answer)
    }
}

/// Why the headless terminal stopped.
#[derive(Debug, thiserror::Error)]
pub enum PosError {
    /// The script could not be read.
    #[error("script {0}: {1}")]
    Script(String, std::io::Error),
    /// The script could not be read.
    /// A script line does not fit what the terminal waits for.
    #[error("script line {0:?} does not answer {1}")]
    Unexpected(String, &'static str),
    /// The script ended too early.
    #[error("the script ended while the terminal waits for {0}")]
    ScriptEnded(&'static str),
    /// The terminal could not be set up.
    #[error("{0}")]
    Setup(String),
}

/// The card the flow is working with, as the request needs it.
#[derive(Default)]
struct CardState {
    pan: Option<Pan>,
    track2: Option<String>,
    pin: Option<EncryptedPinBlock>,
    /// The EMV transaction of an inserted card, between cardholder verification and
    /// completion.
    chip: Option<Contact<'static>>,
    /// PAN sequence number (field 23) of a chip card.
    sequence: Option<u8>,
    /// The chip asked for an online PIN.
    chip_wants_pin: bool,
    /// The contact chip checks the PIN itself (offline PIN): the next PIN goes to the card.
    chip_checks_pin: bool,
    /// The chip's applications offered to the cardholder, and the transaction to start.
    candidates: Vec<pos_emv::Candidate>,
    pending_txn: Option<TransactionData>,
    /// The application the cardholder chose: a second reading (a new PIN) takes it again.
    chosen_aid: Option<Vec<u8>>,
    /// The card was tapped (the contactless reader holds it), not inserted.
    tapped: bool,
    /// Field 55 of a tap: qPBOC's cryptogram came with the GPO.
    tap_icc: Option<Vec<u8>>,
    /// Field 55 of a tap the card approved offline (a TC with a valid fDDA, paid from its
    /// electronic cash): journaled, uploaded at settlement.
    tap_offline: Option<Vec<u8>>,
    /// The customer's payment code of a scan-code payment.
    code: Option<pos_hal::ScannedCode>,
    /// The terminal's QR order (the customer scans it).
    order: Option<String>,
}

/// The EMV kernel's configuration: this terminal (online PIN for the host; offline PIN,
/// plaintext or enciphered, for a card that checks it) and the CA keys it trusts.
struct EmvSetup {
    terminal: TerminalConfig,
    capks: CapkSet,
}

const TEST_CAPKS: &str = include_str!("../../sim/fixtures/emv-ca/capk.toml");

fn emv_setup(
    capk: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
) -> Result<&'static EmvSetup, PosError> {
    let read = |flag: &str, path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|e| PosError::Setup(format!("{flag} {}: {e}", path.display())))
    };
    let capk_text = match capk {
        Some(path) => read("--capk", path)?,
        None => TEST_CAPKS.to_string(),
    };
    let config_text = config
        .map(|path| read("--emv-config", path).map(|text| (path, text)))
        .transpose()?;
    // A kernel transaction borrows its configuration, so a configuration lives as long as
    // the program: one per distinct pair of files, however often a terminal is opened.
    static KEPT: std::sync::Mutex<Vec<(String, Option<String>, &'static EmvSetup)>> =
        std::sync::Mutex::new(Vec::new());
    let mut kept = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = config_text.as_ref().map(|(_, text)| text.clone());
    if let Some((_, _, setup)) = kept.iter().find(|(c, t, _)| *c == capk_text && *t == key) {
        return Ok(setup);
    }
    let capks = CapkSet::from_toml(&capk_text).map_err(|e| PosError::Setup(e.to_string()))?;
    let terminal = match &config_text {
        Some((path, text)) => TerminalConfig::from_toml(text)
            .map_err(|e| PosError::Setup(format!("--emv-config {}: {e}", path.display())))?,
        None => TerminalConfig::china_pos(),
    };
    let setup: &'static EmvSetup = Box::leak(Box::new(EmvSetup { terminal, capks }));
    kept.push((capk_text, key, setup));
    Ok(setup)
}

/// The contactless lights of a runner without lights: logged.
struct LoggedLights;

impl pos_hal::ErrorType for LoggedLights {
    type Error = std::convert::Infallible;
}

impl pos_hal::Indicators for LoggedLights {
    fn beep(&mut self, kind: pos_hal::BeepKind) -> Result<(), Self::Error> {
        eprintln!("pos: beep {kind:?}");
        Ok(())
    }
    fn set_contactless_leds(&mut self, leds: pos_hal::ContactlessLeds) -> Result<(), Self::Error> {
        let lit = [leds.ready, leds.reading, leds.read, leds.done];
        eprintln!(
            "pos: lights {}",
            lit.iter()
                .map(|on| if *on { '●' } else { '○' })
                .collect::<String>()
        );
        Ok(())
    }
}

/// What the host said, for the chip's completion: field 39 and, from field 55, the issuer
/// authentication data (91) and scripts (71/72).
fn host_answer(answer: &Message<'_>) -> HostAnswer {
    let Ok(Some(rc)) = answer.string(39) else {
        return HostAnswer::Unreachable;
    };
    let arc = match rc.as_bytes() {
        [a, b] => [*a, *b],
        _ => return HostAnswer::Unreachable,
    };
    let icc = answer
        .text(55)
        .ok()
        .flatten()
        .map(|d| d.into_owned())
        .unwrap_or_default();
    let mut scripts = Vec::new();
    let mut issuer_authentication = None;
    for element in pos_hal::tlv::TlvIter::new(&icc).map_while(Result::ok) {
        match element.tag {
            0x91 => issuer_authentication = Some(element.value.to_vec()),
            0x71 | 0x72 => {
                let _ = pos_hal::tlv::push(&mut scripts, element.tag, element.value);
            }
            _ => {}
        }
    }
    HostAnswer::Answered {
        arc,
        issuer_authentication,
        scripts,
    }
}

/// The device a role's selector names, opened; `None` when the role is not configured.
fn open_role<T>(
    selector: Option<&str>,
    open: fn(&str) -> Result<T, pos_devices::DeviceError>,
) -> Result<Option<T>, PosError> {
    selector
        .map(open)
        .transpose()
        .map_err(|e| PosError::Setup(e.to_string()))
}

/// What the online layer fails with on this terminal's link, journal and key store.
type OnlineFailure = pos_terminal::online::OnlineError<
    <TcpHostLink as pos_hal::ErrorType>::Error,
    <SqliteJournal as pos_hal::ErrorType>::Error,
    <SoftwareKeyStore as pos_hal::ErrorType>::Error,
>;

/// What the online layer works with — the host link, the journal, the keys, the acquirer —
/// kept apart from the devices and the card, so a request can be made while they are in use.
struct HostSide {
    link: PluggedLink,
    journal: PluggedJournal,
    keys: SoftwareKeyStore,
    acquirer: Acquirer,
    /// Told where long steps are (sign-in, settlement, batch upload, printing).
    progress: Box<dyn FnMut(pos_terminal::online::Progress)>,
}

impl HostSide {
    fn online(&mut self) -> Online<'_, PluggedLink, PluggedJournal, SoftwareKeyStore> {
        Online::new(
            &mut self.link,
            &mut self.journal,
            &mut self.keys,
            &self.acquirer,
        )
        .with_progress(&mut *self.progress)
    }
}

/// The terminal: devices, host link, journal, keys, and the card of the sale in progress.
#[allow(missing_debug_implementations)] // devices and keys are not printable
pub struct Terminal {
    host: HostSide,
    printer: Option<DynPrinter>,
    reader: Option<DynIccReader>,
    contactless: Option<DynPiccReader>,
    magstripe: Option<DynMagstripeReader>,
    scanner: Option<DynCodeScanner>,
    card: CardState,
    /// Batch, voucher, RRN, authorisation code and host time of the approval being printed.
    last_approval: Option<(u32, u32, String, String, String)>,
    approved_record: Option<u64>,
    /// Receipts printed so far.
    pub printed: usize,
    cancel: CancelToken,
    kill_at: Option<KillAt>,
    original: Option<requests::Original>,
    label: &'static str,
    emv: &'static EmvSetup,
    sequence: u32,
    echo_receipts: bool,
    last_receipt: Option<String>,
    link_target: String,
    journal_path: String,
    /// The operator logged in (on slips, the settlement list and the settlement request);
    /// cashier 01 until someone logs in.
    operator: String,
}

fn now() -> DateTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    DateTime::from_unix(secs, 8 * 3600)
        .or_else(|_| DateTime::new(2026, 1, 1, 0, 0, 0))
        .unwrap_or_else(|_| SaleSlip::sample().when)
}

impl Terminal {
    /// Opens the devices and the journal, then signs in; returns the terminal and its batch.
    pub fn open(settings: &Settings) -> Result<(Self, u32), PosError> {
        Self::open_with_progress(settings, Box::new(|_| {}))
    }

    /// [`open`](Self::open), telling `progress` where long steps are — from the sign-in on.
    pub fn open_with_progress(
        settings: &Settings,
        progress: Box<dyn FnMut(pos_terminal::online::Progress)>,
    ) -> Result<(Self, u32), PosError> {
        let mut t = Self::open_signed_out(settings, progress)?;
        let batch = t
            .try_sign_in()
            .map_err(|e| PosError::Setup(format!("sign-in: {e}")))?;
        Ok((t, batch))
    }

    /// Opens the devices and the journal without signing in: the power-on flow
    /// ([`pos_terminal::flows::StartupFlow`]) checks the devices and signs in itself.
    pub fn open_signed_out(
        settings: &Settings,
        progress: Box<dyn FnMut(pos_terminal::online::Progress)>,
    ) -> Result<Self, PosError> {
        let tmk = hex::decode(&settings.tmk)
            .map_err(|e| PosError::Setup(format!("--tmk: {e}")))
            .and_then(|k| {
                let key = if settings.mac == MacAlgorithm::Sm4Cbc {
                    SecretKey::sm4(&k)
                } else {
                    SecretKey::tdes(&k)
                };
                key.map_err(|e| PosError::Setup(format!("--tmk: {e}")))
            })?;
        let mut keys = SoftwareKeyStore::default();
        keys.install(KeySlot::Master(0), tmk)
            .map_err(|e| PosError::Setup(e.to_string()))?;
        let frame = Frame::new(
            [0x60, 0x00, 0x03, 0x00, 0x00],
            [0x60, 0x31, 0x00, 0x31, 0x00, 0x00],
        );
        let mut t = Terminal {
            host: HostSide {
                link: PluggedLink {
                    inner: TcpHostLink::new(settings.host.clone())
                        .with_connect_timeout(Duration::from_secs(5)),
                    kill_after_answer: false,
                },
                journal: PluggedJournal {
                    inner: SqliteJournal::open(&settings.journal)
                        .map_err(|e| PosError::Setup(e.to_string()))?,
                    kill_after_begin: false,
                },
                keys,
                acquirer: Acquirer::new(
                    frame,
                    settings.mac,
                    &settings.terminal_id,
                    &settings.merchant_id,
                )
                .with_timeout(settings.host_timeout),
                progress,
            },
            printer: open_role(settings.printer.as_deref(), pos_devices::open_printer)?,
            reader: open_role(settings.reader.as_deref(), pos_devices::open_icc)?,
            contactless: open_role(settings.contactless.as_deref(), pos_devices::open_picc)?,
            magstripe: open_role(settings.magstripe.as_deref(), pos_devices::open_magstripe)?,
            scanner: open_role(settings.scanner.as_deref(), pos_devices::open_scanner)?,
            card: CardState::default(),
            last_approval: None,
            approved_record: None,
            printed: 0,
            cancel: CancelToken::new(),
            kill_at: settings.kill_at,
            original: None,
            label: "消费 SALE",
            emv: emv_setup(settings.capk.as_deref(), settings.emv_config.as_deref())?,
            sequence: 0,
            echo_receipts: true,
            last_receipt: None,
            link_target: format!("tcp:{}", settings.host),
            journal_path: settings.journal.display().to_string(),
            operator: String::from("01"),
        };
        // Whoever logged in last is still logged in after a power cycle.
        if let Ok(Some(operator)) = t.host.journal.inner.logged_in() {
            t.operator = operator;
        }
        Ok(t)
    }

    fn try_sign_in(&mut self) -> Result<u32, OnlineFailure> {
        let mac = self.host.acquirer.mac;
        let layout = KeyBlockLayout::default()
            .with_double_length_mak(mac == MacAlgorithm::X919)
            .with_sm4(mac == MacAlgorithm::Sm4Cbc);
        self.host
            .online()
            .sign_in("01", KeySlot::Master(0), &layout, true, &self.cancel)
    }

    /// Signs in for the power-on flow: the batch, or the failure as the screen explains it
    /// (the details go to stderr).
    fn sign_in(&mut self) -> Event {
        use pos_terminal::flows::SignInFailure;
        use pos_terminal::online::OnlineError;
        Event::SignedIn(self.try_sign_in().map_err(|e| {
            eprintln!("pos: sign-in: {e}");
            match e {
                OnlineError::Rejected { rc } => SignInFailure::Rejected { rc },
                OnlineError::Unreachable(e)
                | OnlineError::Link(e)
                | OnlineError::ReversalPending(e) => SignInFailure::Unreachable(e.kind()),
                OnlineError::Answer(_) | OnlineError::Codec(_) => SignInFailure::BadAnswer,
                OnlineError::Journal(e) => SignInFailure::Journal(e.kind()),
                _ => SignInFailure::Keys,
            }
        }))
    }

    /// Every device role's health, for the self-check (absent roles are "not fitted").
    fn check_devices(&mut self) -> Event {
        use pos_hal::{Device, HealthLevel, HealthReport, HealthStatus};
        use pos_terminal::flows::self_check::{CheckResult, DeviceCheck};
        fn check<D: Device + ?Sized>(device: Option<&mut D>) -> CheckResult {
            match device {
                None => CheckResult::NotFitted,
                Some(d) => match d.health_check(HealthLevel::Internal) {
                    Ok(report) => CheckResult::Checked(report),
                    Err(e) => CheckResult::Failed(e.kind()),
                },
            }
        }
        let journal = match self.host.journal.inner.quick_check() {
            Ok(None) => CheckResult::Checked(HealthReport::new(
                HealthLevel::Internal,
                HealthStatus::Ok,
                "",
            )),
            Ok(Some(problem)) => CheckResult::Checked(HealthReport::new(
                HealthLevel::Internal,
                HealthStatus::Failed,
                &problem,
            )),
            Err(e) => CheckResult::Failed(e.kind()),
        };
        let keys = CheckResult::Checked(if self.host.keys.has_key(KeySlot::Mac) {
            HealthReport::new(HealthLevel::Internal, HealthStatus::Ok, "")
        } else {
            HealthReport::new(
                HealthLevel::Internal,
                HealthStatus::Degraded,
                "no working keys: sign in",
            )
        });
        Event::DevicesChecked(vec![
            DeviceCheck {
                role: "读卡器 CHIP READER",
                result: check(self.reader.as_deref_mut()),
            },
            DeviceCheck {
                role: "非接 CONTACTLESS",
                result: check(self.contactless.as_deref_mut()),
            },
            DeviceCheck {
                role: "磁条 MAGSTRIPE",
                result: check(self.magstripe.as_deref_mut()),
            },
            DeviceCheck {
                role: "扫码 SCANNER",
                result: check(self.scanner.as_deref_mut()),
            },
            DeviceCheck {
                role: "打印机 PRINTER",
                result: check(self.printer.as_deref_mut()),
            },
            DeviceCheck {
                role: "日志 JOURNAL",
                result: journal,
            },
            DeviceCheck {
                role: "密钥 KEYS",
                result: keys,
            },
        ])
    }

    /// Echo tests, each timed.
    fn check_network(&mut self, echoes: u8) -> Event {
        use pos_terminal::flows::self_check::{EchoFailure, NetworkReport};
        use pos_terminal::online::OnlineError;
        let mut tries = Vec::new();
        for _ in 0..echoes {
            let started = std::time::Instant::now();
            let result = self.host.online().echo(&self.cancel);
            tries.push(match result {
                Ok(()) => Ok(u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX)),
                Err(e) => {
                    eprintln!("pos: echo test: {e}");
                    Err(match e {
                        OnlineError::Rejected { rc } => EchoFailure::Rejected { rc },
                        OnlineError::Unreachable(e) | OnlineError::Link(e) => {
                            EchoFailure::Unreachable(e.kind())
                        }
                        _ => EchoFailure::BadAnswer,
                    })
                }
            });
        }
        Event::NetworkChecked(NetworkReport::from_tries(&tries))
    }

    fn print_self_check(
        &mut self,
        report: &pos_terminal::flows::self_check::SelfCheckReport,
    ) -> Event {
        let slip = pos_terminal::slip::SelfCheckSlip {
            merchant_id: self.host.acquirer.merchant_id.clone(),
            terminal_id: self.host.acquirer.terminal_id.clone(),
            when: now(),
            report: report.clone(),
        };
        let layout = slip.layout();
        let lines = layout.lines();
        self.print_receipt(&Receipt::new(&lines))
    }

    /// The open batch's records, read back (masked) for the records query.
    fn records(&mut self) -> Event {
        let records = self
            .host
            .journal
            .batch()
            .and_then(|batch| self.host.journal.records(batch));
        Event::Records(match records {
            Ok(records) => pos_terminal::records::summarize(&records),
            Err(e) => {
                eprintln!("pos: journal: {e}");
                Vec::new()
            }
        })
    }

    /// Sends the reversals the journal holds (unknown outcomes) now, without waiting for the
    /// next request; returns how many went out.
    pub fn flush_reversals(&mut self) -> Result<usize, PosError> {
        self.host
            .online()
            .flush_reversals(&self.cancel)
            .map_err(|e| PosError::Setup(format!("reversal: {e}")))
    }

    /// The operator now logged in (printed on slips, sent with the settlement).
    pub fn set_operator(&mut self, operator: &str) {
        self.operator = String::from(operator);
        if let Err(e) = self.host.journal.inner.set_logged_in(operator) {
            eprintln!("pos: journal: the operator logged in is not kept: {e}");
        }
    }

    /// Exports the journal (records, counters, operators) to a new file.
    pub fn export_journal(&self, to: &std::path::Path) -> Result<(), PosError> {
        self.host
            .journal
            .inner
            .export(to)
            .map_err(|e| PosError::Setup(e.to_string()))
    }

    /// Performs an action that needs no script input (read the chip, look up a voucher, go
    /// online, print); `None` for the actions that wait for the script and for the end.
    pub fn perform(&mut self, action: &Action, flow: &dyn Flow) -> Option<Event> {
        Some(match action {
            Action::Abandon => self.abandon(),
            Action::LookUpVoucher { voucher } => {
                Event::Original(self.look_up(*voucher).map(Box::new))
            }
            Action::ReadChip {
                transaction,
                amount,
            } => self.read_chip(*transaction, *amount),
            Action::SelectApplication { index } => self.select_application(*index),
            Action::GoOnline {
                transaction,
                amount,
                source,
            } => self.go_online(*transaction, *amount, *source),
            Action::Print { copy } => self.print(*copy, flow.amount()),
            Action::LookUpTotals => self.totals(),
            Action::Reprint { voucher } => self.reprint(*voucher),
            Action::SaveOperators { operators } => Event::Saved(
                self.host
                    .journal
                    .inner
                    .save_operators(operators)
                    .map_err(|e| e.kind()),
            ),
            Action::Settle => self.settle(),
            Action::CreateOrder { amount } => self.create_order(*amount),
            Action::QueryOrder { amount, .. } => {
                self.go_online(Transaction::Sale, *amount, CardSource::TerminalQr)
            }
            Action::CloseOrder => self.close_order(),
            Action::PrintSettlement { report } => self.print_settlement(report),
            Action::CheckDevices => self.check_devices(),
            Action::CheckNetwork { echoes } => self.check_network(*echoes),
            Action::PrintSelfCheck { report } => self.print_self_check(report),
            Action::SignIn => self.sign_in(),
            Action::LookUpRecords => self.records(),
            Action::CheckElectronicCash { amount } => {
                Event::ElectronicCash(self.electronic_cash_offered(*amount))
            }
            _ => return None,
        })
    }
    /// A script key line (`enter`, `key 5`, `timeout`, …) as an event.
    pub fn key_event(line: &str) -> Option<Event> {
        Some(match line {
            "enter" => Event::Key(Key::Enter),
            "cancel" => Event::Key(Key::Cancel),
            "clear" => Event::Key(Key::Clear),
            "timeout" => Event::Timeout,
            other => Event::Key(Key::Digit(other.strip_prefix("key ")?.parse().ok()?)),
        })
    }

    /// A script scan line as an event: `scan CODE` (the code given in the script), `scan` (a
    /// scan on the code scanner), `timeout`, `cancel`.
    pub fn scan_event(&mut self, line: &str) -> Result<Event, PosError> {
        self.card = CardState::default();
        if line == "timeout" {
            return Ok(Event::CodeScanned(Err(pos_hal::ErrorKind::Timeout)));
        }
        if line == "cancel" {
            return Ok(Event::Key(Key::Cancel));
        }
        let scanned = if let Some(code) = line.strip_prefix("scan ") {
            pos_hal::ScannedCode::parse(code.as_bytes()).map_err(|_| pos_hal::ErrorKind::Protocol)
        } else if line == "scan" {
            let scanner = self
                .scanner
                .as_mut()
                .ok_or_else(|| PosError::Setup("a bare `scan` needs a code scanner".into()))?;
            scanner
                .read_code(Duration::from_secs(60), &self.cancel)
                .map_err(|e| e.kind())
        } else {
            return Err(PosError::Unexpected(line.into(), "a scan"));
        };
        Ok(Event::CodeScanned(scanned.map(|code| {
            self.card.code = Some(code);
        })))
    }

    /// Creates the terminal's QR order at the host; its id is kept for the queries.
    fn create_order(&mut self, amount: Amount) -> Event {
        self.card = CardState::default();
        let Ok(batch) = self.host.journal.batch() else {
            return Event::OrderCreated(Err(pos_hal::ErrorKind::Disconnected));
        };
        let Ok(request) = requests::order_create(amount, batch) else {
            return Event::OrderCreated(Err(pos_hal::ErrorKind::InvalidInput));
        };
        let mut online = self.host.online();
        let answered = match online.request(request, &self.cancel) {
            Ok(a) if matches!(a.record.outcome, Outcome::Approved { .. }) => a,
            Ok(_) => return Event::OrderCreated(Err(pos_hal::ErrorKind::Protocol)),
            Err(e) => return Event::OrderCreated(Err(e.kind())),
        };
        let (Ok(Some(order)), Ok(Some(payload))) =
            (answered.answer.string(37), answered.answer.string(59))
        else {
            return Event::OrderCreated(Err(pos_hal::ErrorKind::Protocol));
        };
        self.card.order = Some(order);
        Event::OrderCreated(Ok(payload))
    }

    /// Closes the unpaid order (a failure leaves it to the host's expiry).
    fn close_order(&mut self) -> Event {
        if let (Some(order), Ok(batch)) = (self.card.order.clone(), self.host.journal.batch())
            && let Ok(request) = requests::order_close(&order, batch)
        {
            let mut online = self.host.online();
            if let Err(e) = online.request(request, &self.cancel) {
                eprintln!("pos: closing order: {e}");
            }
        }
        Event::OrderClosed
    }

    /// True when a code scanner is open (a bare `scan` reads from it).
    pub fn has_scanner(&self) -> bool {
        self.scanner.is_some()
    }

    /// A script card line (`swipe ;…?`, `insert`, `tap`, `timeout`, `cancel`) as an event.
    pub fn card_event(&mut self, line: &str) -> Result<Event, PosError> {
        if line == "timeout" || line == "cancel" {
            return Ok(Self::key_event(line).unwrap_or(Event::Timeout));
        }
        // A new card: nothing of the previous one's chip session may travel with it.
        self.card.chip = None;
        self.card.tap_icc = None;
        self.card.tapped = false;
        self.card.chosen_aid = None;
        self.card.candidates.clear();
        self.card.tap_offline = None;
        if let Some(raw) = line.strip_prefix("swipe ") {
            let t2 = Track2::parse(raw).map_err(|e| PosError::Setup(format!("track: {e}")))?;
            self.card.pan = t2.pan().ok();
            self.card.track2 = Some(t2.reveal().to_string());
            let swipe = Swipe::clear(TrackRead::Absent, TrackRead::Read(t2), TrackRead::Absent);
            return Ok(Event::Swiped(Box::new(swipe)));
        }
        if line == "swipe" {
            // A swipe on the real magstripe reader.
            let msr = self
                .magstripe
                .as_mut()
                .ok_or_else(|| PosError::Setup("a bare `swipe` needs a magstripe reader".into()))?;
            return Ok(
                match msr.read_swipe(Duration::from_secs(30), &self.cancel) {
                    Ok(swipe) => {
                        let t2 = swipe.tracks().track2.clone();
                        self.card.pan = swipe.tracks().pan().ok();
                        self.card.track2 = t2.map(|t| t.reveal().to_string());
                        Event::Swiped(Box::new(swipe))
                    }
                    Err(e) => {
                        eprintln!("pos: no swipe: {e}");
                        Event::Timeout
                    }
                },
            );
        }
        if line == "tap" {
            let picc = self
                .contactless
                .as_mut()
                .ok_or_else(|| PosError::Setup("`tap` needs --contactless-reader".into()))?;
            self.card.tapped = true;
            return Ok(
                match picc.poll(
                    pos_hal::TargetTypes::AB,
                    Duration::from_secs(10),
                    &self.cancel,
                ) {
                    Ok(pos_hal::PollOutcome::Card(_)) => Event::Tapped,
                    Ok(pos_hal::PollOutcome::Collision) => {
                        eprintln!("pos: more than one card in the field: present one card only");
                        Event::Timeout
                    }
                    _ => Event::Timeout,
                },
            );
        }
        if line == "insert" {
            let reader = self
                .reader
                .as_mut()
                .ok_or_else(|| PosError::Setup("`insert` needs --reader".into()))?;
            return Ok(
                match reader.wait_for_card(Duration::from_secs(10), &self.cancel) {
                    Ok(()) => Event::Inserted,
                    Err(e) => {
                        eprintln!("pos: no card: {e}");
                        Event::Timeout
                    }
                },
            );
        }
        Err(PosError::Unexpected(line.into(), "a card"))
    }

    /// A script PIN line (`pin 123456`, `pin-cancel`) as an event: a PIN block for the host,
    /// or — for a chip that checks the PIN itself — the card's verdict.
    pub fn pin(&mut self, line: &str) -> Result<Event, PosError> {
        if line == "pin-cancel" {
            return Ok(Event::Pin(Err(pos_hal::ErrorKind::Cancelled)));
        }
        let digits = line
            .strip_prefix("pin ")
            .ok_or_else(|| PosError::Unexpected(line.into(), "the PIN pad"))?;
        let pan = self
            .card
            .pan
            .clone()
            .ok_or(PosError::ScriptEnded("a card"))?;
        let pin: pos_hal::PinDigits = Secret::new(
            InlineBytes::new(digits.as_bytes()).map_err(|e| PosError::Setup(e.to_string()))?,
        );
        if self.card.chip_checks_pin {
            return Ok(self.offline_pin(&pin));
        }
        Ok(self.online_pin(&pan, &pin))
    }

    /// The PIN block for the host, through the PIN pad port (the software PIN pad: the key
    /// store's PIN key, this acquirer's block format).
    fn online_pin(&mut self, pan: &Pan, pin: &pos_hal::PinDigits) -> Event {
        let format = self.pin_format();
        let request = pos_hal::PinRequest::online(pan).with_format(format);
        let entry = pos_hal::PinPad::get_pin(
            &mut crate::soft_pinpad::SoftPinPad::typed(&mut self.host.keys, Some(pin)),
            &request,
            &self.cancel,
        );
        Event::Pin(match entry {
            Ok(pos_hal::PinEntry::Entered(block)) => {
                self.card.pin = Some(block);
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(kind) => Err(kind),
        })
    }

    /// Queues the reversal (06) of the approval just given; it goes out before the next request.
    fn abandon(&mut self) -> Event {
        if let Some(id) = self.approved_record.take() {
            let mut online = self.host.online();
            if let Err(e) = online.abandon(id) {
                eprintln!("pos: {e}");
            }
        }
        Event::Online(OnlineOutcome::Unknown)
    }

    /// The approved sale of the open batch with this voucher number, remembered for the void.
    fn look_up(&mut self, voucher: u32) -> Option<OriginalSale> {
        let batch = self.host.journal.batch().ok()?;
        let record = self.host.journal.by_voucher(voucher).ok()??;
        let Outcome::Approved { rrn, auth, .. } = &record.outcome else {
            return None;
        };
        let request = Message::unpack(&record.request).ok()?;
        let is_sale = request.mti() == Mti::FINANCIAL_REQUEST
            && request.processing_code().ok()?.as_deref() == Some("000000")
            && request.transaction_type().ok()?.as_deref() == Some("22");
        if record.batch != batch || !is_sale {
            return None;
        }
        // A sale voided already (an approved void naming its RRN) is not voided twice.
        let voided = self.host.journal.records(batch).ok()?.iter().any(|r| {
            matches!(r.outcome, Outcome::Approved { .. })
                && Message::unpack(&r.request).is_ok_and(|m| {
                    m.transaction_type().ok().flatten().as_deref() == Some("23")
                        && m.string(37).ok().flatten().as_deref() == Some(rrn.as_str())
                })
        });
        if voided {
            return None;
        }
        let original = OriginalSale {
            voucher,
            pan: request.pan().ok()??,
            amount: request.amount().ok()??,
        };
        self.original = Some(requests::Original {
            rrn: rrn.clone(),
            auth: Some(auth.clone()),
            batch_stan: Some((record.batch, record.stan)),
            date: None,
        });
        Some(original)
    }

    fn go_online(&mut self, transaction: Transaction, amount: Amount, source: CardSource) -> Event {
        if transaction == Transaction::ElectronicCash
            && let Some(offline) = self.electronic_cash_sale(amount)
        {
            return offline;
        }
        if let Some(icc) = self.card.tap_offline.take() {
            return self.record_offline_sale(amount, &icc, Entry::Tapped);
        }
        let request = if source == CardSource::TerminalQr {
            let (Some(order), Ok(batch)) = (self.card.order.as_ref(), self.host.journal.batch())
            else {
                return Event::Online(OnlineOutcome::Unreachable);
            };
            self.label = "扫码支付 SCAN PAY";
            requests::order_query(order, amount, batch)
        } else if source == CardSource::PaymentCode {
            let (Some(code), Ok(batch)) = (self.card.code.as_ref(), self.host.journal.batch())
            else {
                return Event::Online(OnlineOutcome::Unreachable);
            };
            self.label = "扫码支付 SCAN PAY";
            requests::scan_sale(code.as_str(), amount, batch)
        } else {
            let Some(pan) = self.card.pan.clone() else {
                return Event::Online(OnlineOutcome::Unreachable);
            };
            let entry = match source {
                CardSource::Swipe => Entry::Swiped,
                CardSource::Fallback => Entry::Fallback,
                CardSource::Contactless => Entry::Tapped,
                _ => Entry::Inserted,
            };
            let icc = match self.first_cryptogram() {
                Ok(icc) => icc,
                Err(outcome) => return Event::Online(outcome),
            };
            let mut card = Card::new(&pan, entry);
            if let Some(data) = icc.as_deref() {
                card = card.with_icc(data, self.card.sequence);
            }
            if let Some(t2) = self.card.track2.as_deref() {
                card = card.with_track2(t2);
            }
            if let Some(pin) = self.card.pin.as_ref() {
                card = card.with_pin(pin);
            }
            // Armed only now: the sign-in before must not pull the plug.
            self.host.journal.kill_after_begin = self.kill_at == Some(KillAt::BeforeSend);
            self.host.link.kill_after_answer = self.kill_at == Some(KillAt::AfterAnswer);
            let Ok(batch) = self.host.journal.batch() else {
                return Event::Online(OnlineOutcome::Unreachable);
            };
            self.label = match transaction {
                Transaction::Void => "消费撤销 VOID",
                Transaction::Refund { .. } => "退货 REFUND",
                Transaction::PreAuth => "预授权 PRE-AUTH",
                Transaction::Completion { .. } => "预授权完成 AUTH COMPLETE",
                Transaction::PreAuthCancel { .. } => "预授权撤销 PRE-AUTH CANCEL",
                _ => "消费 SALE",
            };
            let by_auth = |auth: [u8; 6], date: [u8; 4]| requests::Original {
                rrn: String::new(),
                auth: Some(String::from_utf8_lossy(&auth).into_owned()),
                batch_stan: None,
                date: Some(String::from_utf8_lossy(&date).into_owned()),
            };
            match (transaction, self.original.as_ref()) {
                (Transaction::Balance, _) => requests::balance(&card, batch),
                (Transaction::Void, Some(original)) => {
                    requests::void(&card, amount, batch, original)
                }
                (Transaction::Void, None) => return Event::Online(OnlineOutcome::Unreachable),
                (Transaction::Refund { reference, date }, _) => requests::refund(
                    &card,
                    amount,
                    batch,
                    &requests::Original {
                        rrn: String::from_utf8_lossy(&reference).into_owned(),
                        auth: None,
                        batch_stan: None,
                        date: Some(String::from_utf8_lossy(&date).into_owned()),
                    },
                ),
                (Transaction::PreAuth, _) => requests::preauth(&card, amount, batch),
                (Transaction::Completion { auth, date }, _) => {
                    requests::completion(&card, amount, batch, &by_auth(auth, date))
                }
                (Transaction::PreAuthCancel { auth, date }, _) => {
                    requests::preauth_cancel(&card, amount, batch, &by_auth(auth, date))
                }
                _ => requests::sale(&card, amount, batch),
            }
        };
        let Ok(request) = request else {
            return Event::Online(OnlineOutcome::Unreachable);
        };
        let mut online = self.host.online();
        let result = online.request(request, &self.cancel);
        let host = match &result {
            Ok(answered) => host_answer(&answered.answer),
            Err(_) => HostAnswer::Unreachable,
        };
        if let Ok(answered) = &result
            && matches!(answered.record.outcome, Outcome::Approved { .. })
        {
            // Known before completion: a chip that declines the approval gets it reversed.
            self.approved_record = Some(answered.record.id);
        }
        let original = result.as_ref().ok().map(|answered| {
            let mut original = answered.answer.clone();
            // What the advice names the transaction by: the request's card and amount, the
            // host's reference.
            if let Ok(request) = Message::unpack(&answered.record.request) {
                for n in [2u8, 3, 4, 22, 23, 49] {
                    if let Ok(Some(v)) = request.string(n) {
                        let _ = original.set_text(n, v);
                    }
                }
            }
            original
        });
        if let Some(declined) = self.complete_chip(&host, original.as_ref()) {
            return Event::Online(declined);
        }
        Event::Online(match result {
            Ok(answered) => match answered.record.outcome {
                Outcome::Approved { .. } if transaction == Transaction::Balance => {
                    OnlineOutcome::Balance {
                        balance: requests::available_balance(&answered.answer),
                    }
                }
                Outcome::Approved {
                    rrn,
                    auth,
                    host_time,
                } => {
                    self.approved_record = Some(answered.record.id);
                    self.last_approval = Some((
                        answered.record.batch,
                        answered.record.voucher,
                        rrn,
                        auth.clone(),
                        host_time,
                    ));
                    OnlineOutcome::Approved { auth }
                }
                Outcome::Declined { rc } => OnlineOutcome::Declined { rc },
                _ => OnlineOutcome::Unknown,
            },
            Err(e) if e.outcome_unknown() => {
                eprintln!("pos: {e}");
                OnlineOutcome::Unknown
            }
            Err(e) => {
                eprintln!("pos: {e}");
                OnlineOutcome::Unreachable
            }
        })
    }

    /// The operator table kept in the journal database.
    pub fn operators(&mut self) -> Result<pos_terminal::operators::Operators, PosError> {
        self.host
            .journal
            .inner
            .operators()
            .map_err(|e| PosError::Setup(format!("journal: {e}")))
    }

    /// The forced settlement (Lakala): a batch left open from an earlier business day is
    /// settled, and its list printed, before any transaction. Returns the settled batch's
    /// report, or `None` when the batch is today's (or empty).
    pub fn settle_if_due(&mut self) -> Result<Option<pos_terminal::online::Settlement>, PosError> {
        let due = self
            .host
            .online()
            .settlement_due(now(), 8 * 3600)
            .map_err(|e| PosError::Setup(format!("journal: {e}")))?;
        let Some(batch) = due else {
            return Ok(None);
        };
        if self.echo_receipts {
            println!("=== batch {batch:06} is from an earlier day: it is settled first");
        }
        let (mut flow, mut step) =
            pos_terminal::flows::SettlementFlow::start(Duration::from_secs(60));
        loop {
            if self.echo_receipts {
                println!("--- {}\n{}", step.screen.name(), step.screen);
            }
            let event = match &step.action {
                Action::Finish => break,
                // Forced: the operator cannot decline it; a printer fault skips the list.
                Action::WaitKey { .. } => match step.screen {
                    pos_terminal::flows::Screen::SettlementPrinterProblem { .. } => {
                        Event::Key(Key::Cancel)
                    }
                    _ => Event::Key(Key::Enter),
                },
                other => match self.perform(other, &flow) {
                    Some(event) => event,
                    None => break,
                },
            };
            step = flow.on(event);
        }
        self.printed = 0;
        match flow.report() {
            Some(report) => Ok(Some(report.clone())),
            None => Err(PosError::Setup(format!(
                "the forced settlement of batch {batch:06} did not complete: {}",
                step.screen
            ))),
        }
    }

    /// Replaces what is told where long steps are.
    pub fn on_progress(&mut self, progress: Box<dyn FnMut(pos_terminal::online::Progress)>) {
        self.host.progress = progress;
    }

    fn totals(&mut self) -> Event {
        match self.host.online().totals() {
            Ok(totals) => Event::Totals(totals),
            Err(e) => {
                eprintln!("pos: journal: {e}");
                Event::Totals(Default::default())
            }
        }
    }

    fn settle(&mut self) -> Event {
        let mut online = self.host.online();
        Event::Settled(match online.settle(&self.operator, &self.cancel) {
            Ok(report) => Ok(report),
            Err(pos_terminal::online::OnlineError::Rejected { rc }) => {
                Err(SettleFailure::Rejected { rc })
            }
            Err(e) => {
                eprintln!("pos: settlement: {e}");
                Err(SettleFailure::Unreachable)
            }
        })
    }

    fn print_settlement(&mut self, report: &pos_terminal::online::Settlement) -> Event {
        let money = |cents: u64| Amount::from_minor(cents).unwrap_or(Amount::MAX);
        let slip = pos_terminal::slip::SettlementSlip {
            merchant_name: "拉卡拉测试商户".into(),
            merchant_id: self.host.acquirer.merchant_id.clone(),
            terminal_id: self.host.acquirer.terminal_id.clone(),
            operator: self.operator.clone(),
            batch: report.batch,
            when: now(),
            debit: (money(report.totals.debit.0), report.totals.debit.1),
            credit: (money(report.totals.credit.0), report.totals.credit.1),
            balanced: report.balanced,
            uploaded: report.uploaded,
            details: pos_terminal::records::summarize(
                &self.host.journal.records(report.batch).unwrap_or_default(),
            )
            .into_iter()
            .filter(|r| r.kind != "余额查询 BALANCE")
            .collect(),
        };
        let layout = slip.layout();
        let lines = layout.lines();
        self.print_receipt(&Receipt::new(&lines))
    }

    fn print_receipt(&mut self, receipt: &Receipt<'_>) -> Event {
        if self.printer.is_some() {
            (self.host.progress)(pos_terminal::online::Progress::Printing);
        }
        let result = match self.printer.as_mut() {
            Some(p) => p
                .print(receipt, &self.cancel)
                .map(|_| ())
                .map_err(|e| e.kind()),
            None if self.echo_receipts => {
                println!("{}", receipt.plain_text());
                Ok(())
            }
            None => Ok(()),
        };
        if result.is_ok() {
            self.printed += 1;
            self.last_receipt = Some(receipt.plain_text());
        }
        Event::Printed(result)
    }

    /// The text of the last receipt printed (what a screen shows of it).
    pub fn last_receipt(&self) -> Option<&str> {
        self.last_receipt.as_deref()
    }

    /// Receipts without a printer go to stdout (the default) or nowhere (a full-screen UI
    /// shows them itself).
    pub fn echo_receipts(&mut self, on: bool) {
        self.echo_receipts = on;
    }

    /// True when a magnetic stripe reader is open (a bare `swipe` reads from it).
    pub fn has_magstripe(&self) -> bool {
        self.magstripe.is_some()
    }

    /// What each role is connected to, for a status panel.
    pub fn devices(&self) -> Vec<(&'static str, String)> {
        let info = |d: Option<pos_hal::DeviceInfo>| {
            d.map_or_else(|| "none".to_string(), |i| i.selector.as_str().to_string())
        };
        vec![
            ("host", self.link_target.clone()),
            (
                "contact reader",
                info(self.reader.as_ref().map(|r| r.info())),
            ),
            (
                "contactless",
                info(self.contactless.as_ref().map(|r| r.info())),
            ),
            ("magstripe", info(self.magstripe.as_ref().map(|m| m.info()))),
            ("scanner", info(self.scanner.as_ref().map(|s| s.info()))),
            ("printer", info(self.printer.as_ref().map(|p| p.info()))),
            ("journal", self.journal_path.clone()),
        ]
    }

    /// The merchant copy of an approved record, rebuilt from the journal and marked as a
    /// reprint.
    fn reprint(&mut self, voucher: Option<u32>) -> Event {
        let record = match voucher {
            Some(v) => self.host.journal.by_voucher(v),
            None => self.host.journal.last(),
        };
        let Some(slip) = record.ok().flatten().and_then(|r| self.slip_of(&r)) else {
            return Event::Printed(Err(pos_hal::ErrorKind::InvalidInput));
        };
        let layout = slip.layout(pos_terminal::slip::Copy::Reprint);
        let lines = layout.lines();
        self.print_receipt(&Receipt::new(&lines))
    }

    /// The slip of an approved journal record (the PAN, amount and kind come from the
    /// journaled request, the codes from its outcome).
    fn slip_of(&self, record: &Record) -> Option<SaleSlip> {
        let Outcome::Approved {
            rrn,
            auth,
            host_time,
        } = &record.outcome
        else {
            return None;
        };
        let request = Message::unpack(&record.request).ok()?;
        let text = |n| request.string(n).ok().flatten().unwrap_or_default();
        // A card, or what paid a scan-code payment: the payment code (journaled masked) or
        // the terminal's QR order.
        let card = match Pan::parse(&text(2)) {
            Ok(pan) => pos_terminal::slip::SlipCard::Card(pan),
            Err(_) => {
                let f59 = text(59);
                match f59.strip_prefix("QUERY:") {
                    Some(order) => pos_terminal::slip::SlipCard::Order(order.into()),
                    None if !f59.is_empty() => pos_terminal::slip::SlipCard::payment_code(&f59),
                    None => return None,
                }
            }
        };
        let amount = request.amount().ok().flatten()?;
        // A balance inquiry prints no slip; neither does anything that is no transaction.
        let transaction =
            pos_terminal::records::kind_of(&request).filter(|kind| *kind != "余额查询 BALANCE")?;
        let entry = pos_terminal::records::entry_of(&request);
        let when = pos_terminal::slip::host_date_time(host_time, now())
            .or_else(|| {
                record
                    .created
                    .and_then(|secs| DateTime::from_unix(secs, 8 * 3600).ok())
            })
            .unwrap_or_else(now);
        Some(SaleSlip {
            merchant_name: "拉卡拉测试商户".into(),
            merchant_id: self.host.acquirer.merchant_id.clone(),
            terminal_id: self.host.acquirer.terminal_id.clone(),
            operator: self.operator.clone(),
            card,
            issuer: "银联 UnionPay".into(),
            entry: entry.into(),
            transaction: transaction.into(),
            batch: record.batch,
            voucher: record.voucher,
            auth_code: auth.clone(),
            rrn: rrn.clone(),
            when,
            amount,
        })
    }

    fn print(&mut self, copy: pos_terminal::slip::Copy, amount: Amount) -> Event {
        if copy == pos_terminal::slip::Copy::Cardholder
            && self.kill_at == Some(KillAt::BetweenReceipts)
        {
            pull_the_plug();
        }
        let card = match (&self.card.pan, &self.card.code, &self.card.order) {
            (Some(pan), _, _) => pos_terminal::slip::SlipCard::Card(pan.clone()),
            (None, Some(code), _) => pos_terminal::slip::SlipCard::payment_code(code.as_str()),
            (None, None, Some(order)) => pos_terminal::slip::SlipCard::Order(order.clone()),
            (None, None, None) => return Event::Printed(Err(pos_hal::ErrorKind::InvalidInput)),
        };
        let Some((batch, voucher, rrn, auth, host_time)) = self.last_approval.clone() else {
            return Event::Printed(Err(pos_hal::ErrorKind::InvalidInput));
        };
        let slip = SaleSlip {
            merchant_name: "拉卡拉测试商户".into(),
            merchant_id: self.host.acquirer.merchant_id.clone(),
            terminal_id: self.host.acquirer.terminal_id.clone(),
            operator: self.operator.clone(),
            card,
            issuer: "银联 UnionPay".into(),
            entry: if self.card.code.is_some() || self.card.order.is_some() {
                "扫码 Q".into()
            } else if self.card.track2.is_some() {
                "刷卡 S".into()
            } else if self.card.tapped {
                "挥卡 C".into()
            } else {
                "插卡 I".into()
            },
            transaction: self.label.into(),
            batch,
            voucher,
            auth_code: auth,
            rrn,
            when: pos_terminal::slip::host_date_time(&host_time, now()).unwrap_or_else(now),
            amount,
        };
        let layout = slip.layout(copy);
        let lines = layout.lines();
        let receipt = Receipt::new(&lines);
        self.print_receipt(&receipt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_opened_again_reuses_its_emv_configuration() {
        let first = emv_setup(None, None).expect("the default configuration");
        let again = emv_setup(None, None).expect("the default configuration");
        assert!(std::ptr::eq(first, again), "not one more leaked per open");
    }
}
