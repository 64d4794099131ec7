//! Going online safely: every financial request is journaled before it leaves, every answer is
//! checked, and every unknown outcome is reversed — before anything else is sent — until the
//! host acknowledges it. Nothing is charged twice, nothing is lost.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use pos_hal::{CancelToken, ErrorKind, KeySlot, KeyStore, MacAlgorithm};

use crate::host::HostLink;
use crate::iso8583::{CodecError, Frame, Message, Mti};
use crate::journal::{Journal, Outcome, Record, ReversalReason};

/// Fields a journal never keeps (track data, PIN block, MAC). Field 55 is kept cut down to
/// [`REVERSAL_ICC_TAGS`].
const NOT_JOURNALED: [u8; 5] = [35, 36, 52, 26, 64];

/// The chip data a reversal carries (LiaoYang `stReversalTagList`): TVR, IFD serial number,
/// issuer application data, ATC and the script results.
pub const REVERSAL_ICC_TAGS: [u32; 5] = [0x95, 0x9F1E, 0x9F10, 0x9F36, 0xDF31];

/// The elements of `icc` (field 55) whose tags are in `keep`, in their order; malformed data
/// keeps what parsed before the fault.
pub fn icc_subset(icc: &[u8], keep: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    for element in pos_hal::tlv::TlvIter::new(icc).map_while(Result::ok) {
        if keep.contains(&element.tag) {
            // A parsed tag always encodes again.
            let _ = pos_hal::tlv::push(&mut out, element.tag, element.value);
        }
    }
    out
}

/// Who the terminal talks to and how.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Acquirer {
    /// TPDU and header.
    pub frame: Frame,
    /// The MAC the acquirer requires.
    pub mac: MacAlgorithm,
    /// Field 41, bound to the keys of the sign-in.
    pub terminal_id: String,
    /// Field 42.
    pub merchant_id: String,
    /// Time allowed for one exchange.
    pub timeout: Duration,
}

impl Acquirer {
    /// An acquirer with a 30-second exchange timeout.
    pub fn new(frame: Frame, mac: MacAlgorithm, terminal_id: &str, merchant_id: &str) -> Self {
        Self {
            frame,
            mac,
            terminal_id: terminal_id.into(),
            merchant_id: merchant_id.into(),
            timeout: Duration::from_secs(30),
        }
    }

    /// With the exchange timeout given.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// What is wrong with an answer. Every fault leaves the outcome unknown: the request is reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerFault {
    /// Not an ISO 8583 message of this dialect.
    Unreadable,
    /// An approval without field 64.
    MacMissing,
    /// Field 64 does not verify.
    MacWrong,
    /// This field does not echo the request (MTI is reported as field 0).
    Echo(u8),
}

impl fmt::Display for AnswerFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerFault::Unreadable => f.write_str("the host's answer is unreadable"),
            AnswerFault::MacMissing => f.write_str("the host's approval carries no MAC"),
            AnswerFault::MacWrong => f.write_str("the host's answer has a wrong MAC"),
            AnswerFault::Echo(0) => f.write_str("the host answered another message type"),
            AnswerFault::Echo(n) => write!(f, "field {n} of the answer does not match the request"),
        }
    }
}

impl AnswerFault {
    fn reason(self) -> ReversalReason {
        match self {
            AnswerFault::MacMissing | AnswerFault::MacWrong => ReversalReason::MacFailure,
            AnswerFault::Unreadable => ReversalReason::NoAnswer,
            AnswerFault::Echo(_) => ReversalReason::Other,
        }
    }
}

/// Requests whose approval moves money: their approvals must carry a valid MAC.
fn moves_money(mti: Mti) -> bool {
    [
        Mti::AUTH_REQUEST,
        Mti::FINANCIAL_REQUEST,
        Mti::FINANCIAL_ADVICE,
        Mti::REVERSAL,
    ]
    .contains(&mti)
}

/// Requests the host may have acted on and that CUP reverses when their outcome is unknown:
/// those that move money, but not a balance inquiry (processing code `31…`), which changes
/// nothing at the issuer.
fn reversible(request: &Message<'_>) -> bool {
    let inquiry = request
        .string(3)
        .ok()
        .flatten()
        .is_some_and(|code| code.starts_with("31"));
    moves_money(request.mti()) && !inquiry
}

/// The host's `MMDDhhmmss` from an answer's fields 13 and 12, when both are there and numeric.
fn host_time(answer: &Message<'_>) -> String {
    let date = answer.string(13).ok().flatten().unwrap_or_default();
    let time = answer.string(12).ok().flatten().unwrap_or_default();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if digits(&date, 4) && digits(&time, 6) {
        alloc::format!("{date}{time}")
    } else {
        String::new()
    }
}

/// Checks `answer` (a frame payload) against `request`: the response MTI; fields 3, 4, 11, 41
/// and 42 echoed where the request has them; field 64 verified when present and required on an
/// approval of a request that moves money.
pub fn check_answer<'a, K: KeyStore + ?Sized>(
    keys: &mut K,
    algorithm: MacAlgorithm,
    request: &Message<'_>,
    answer: &'a [u8],
) -> Result<Message<'a>, AnswerFault> {
    let (_, rsp) = Frame::decode_payload(answer).map_err(|_| AnswerFault::Unreadable)?;
    if rsp.mti() != request.mti().response() {
        return Err(AnswerFault::Echo(0));
    }
    for n in [3u8, 4, 11, 41, 42] {
        if request.has(n) {
            let want = request.text(n).map_err(|_| AnswerFault::Unreadable)?;
            let got = rsp.text(n).map_err(|_| AnswerFault::Unreadable)?;
            if want != got {
                return Err(AnswerFault::Echo(n));
            }
        }
    }
    let approved = rsp.response_code().ok().flatten().as_deref() == Some("00");
    match Frame::mac_parts(answer) {
        Some((mab, mac)) if rsp.has(64) => {
            let expected = keys
                .mac(KeySlot::Mac, algorithm, mab)
                .map_err(|_| AnswerFault::MacWrong)?;
            let same = expected
                .iter()
                .zip(mac)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
            if !same || mac.len() != expected.len() {
                return Err(AnswerFault::MacWrong);
            }
        }
        _ if approved && moves_money(request.mti()) => return Err(AnswerFault::MacMissing),
        _ => {}
    }
    Ok(rsp)
}

/// Why an online request did not get a usable answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum OnlineError<L, J, K> {
    /// The link failed; the outcome is unknown and a reversal is queued.
    Link(L),
    /// The answer failed a check; the outcome is unknown and a reversal is queued.
    Answer(AnswerFault),
    /// An earlier reversal could not be delivered: no new request goes out until it is.
    ReversalPending(L),
    /// A balance inquiry got no answer: nothing to reverse, it can simply be asked again.
    InquiryUnanswered(L),
    /// A balance inquiry's answer failed a check and was not used; nothing to reverse.
    InquiryRefused(AnswerFault),
    /// The journal failed: nothing was sent.
    Journal(J),
    /// A key operation failed (no MAC key: sign in first).
    Keys(K),
    /// The request could not be encoded.
    Codec(CodecError),
    /// A request that moves no money (sign-in) got no answer; nothing to reverse.
    Unreachable(L),
    /// The host refused the request; [`explain`] says why in words.
    Rejected {
        /// Field 39.
        rc: String,
    },
    /// The sign-in answer's key block does not fit the configured layout.
    KeyBlock(crate::crypto::CryptoError),
}

/// What a response code means and what the operator can do, for the screen.
///
/// ```
/// let (cause, action) = pos_terminal::online::explain("97");
/// assert!(cause.contains("does not know this terminal"));
/// assert!(action.contains("terminal id"));
/// ```
pub fn explain(rc: &str) -> (&'static str, &'static str) {
    match rc {
        "97" => (
            "the acquirer does not know this terminal",
            "check the terminal id, or call the acquirer's help desk",
        ),
        "A0" | "A7" => (
            "the security check failed (MAC or keys)",
            "load the master key again, then sign in",
        ),
        "03" => ("the merchant id is not valid here", "check the merchant id"),
        "91" | "96" | "98" => (
            "the acquirer's system is not available",
            "try again in a few minutes",
        ),
        "12" => (
            "the acquirer refused this kind of request",
            "call the acquirer's help desk",
        ),
        "14" | "15" => (
            "the card number is not valid for this acquirer",
            "ask for another card",
        ),
        "51" => (
            "insufficient funds",
            "ask for another card or a smaller amount",
        ),
        "33" | "54" => ("the card has expired", "ask for another card"),
        "55" => ("wrong PIN", "ask the cardholder to try the PIN again"),
        "75" => (
            "too many wrong PINs: the card is locked for PIN use",
            "ask for another card; the cardholder must contact the bank",
        ),
        "41" | "43" | "04" | "34" => (
            "the card is reported lost, stolen or restricted",
            "do not return the card; follow the acquirer's instructions",
        ),
        "61" | "65" => (
            "over the card's amount or count limit",
            "ask for another card",
        ),
        "05" => (
            "declined by the card issuer",
            "ask for another card or another way to pay",
        ),
        // EMV's "offline declined": the terminal's own code when the chip refuses (its first
        // cryptogram is an AAC, or it declines after the host approved and the approval is
        // reversed).
        "Z1" => (
            "the card's chip declined the transaction",
            "ask for another card or another way to pay",
        ),
        _ => (
            "the acquirer refused the request",
            "call the acquirer's help desk",
        ),
    }
}

impl<L: pos_hal::Error, J: pos_hal::Error, K: pos_hal::Error> OnlineError<L, J, K> {
    /// The HAL kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            OnlineError::Link(e)
            | OnlineError::ReversalPending(e)
            | OnlineError::InquiryUnanswered(e) => e.kind(),
            OnlineError::Answer(_) | OnlineError::InquiryRefused(_) => ErrorKind::Protocol,
            OnlineError::Journal(e) => e.kind(),
            OnlineError::Keys(e) => e.kind(),
            OnlineError::Codec(_) | OnlineError::KeyBlock(_) => ErrorKind::InvalidInput,
            OnlineError::Unreachable(e) => e.kind(),
            OnlineError::Rejected { .. } => ErrorKind::Other,
        }
    }

    /// True when the request may have reached the host: it is being reversed.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, OnlineError::Link(_) | OnlineError::Answer(_))
    }
}

impl<L: fmt::Display, J: fmt::Display, K: fmt::Display> fmt::Display for OnlineError<L, J, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnlineError::Link(e) => write!(
                f,
                "no answer from the host ({e}); the transaction will be reversed"
            ),
            OnlineError::Answer(a) => write!(f, "{a}; the transaction will be reversed"),
            OnlineError::InquiryUnanswered(e) => write!(
                f,
                "no answer from the host ({e}); an inquiry changes nothing: try again"
            ),
            OnlineError::InquiryRefused(a) => {
                write!(f, "{a}; the answer was not used: try again")
            }
            OnlineError::ReversalPending(e) => write!(
                f,
                "a reversal is still waiting for the host ({e}); try again"
            ),
            OnlineError::Journal(e) => write!(f, "journal: {e}"),
            OnlineError::Keys(e) => write!(f, "keys: {e}"),
            OnlineError::Codec(e) => write!(f, "message: {e}"),
            OnlineError::Unreachable(e) => write!(
                f,
                "cannot reach the host ({e}); check the network and try again"
            ),
            OnlineError::Rejected { rc } => {
                let (cause, action) = explain(rc);
                write!(f, "{cause} (code {rc}): {action}")
            }
            OnlineError::KeyBlock(e) => write!(f, "the keys from the host do not fit: {e}"),
        }
    }
}

/// How a journaled request counts in the settlement totals.
fn counts_as(request: &Message<'_>) -> Option<Side> {
    let proc2 = request.processing_code().ok().flatten()?;
    let t60 = request
        .transaction_type()
        .ok()
        .flatten()
        .unwrap_or_default();
    match (request.mti(), proc2.get(..2)?, t60.as_str()) {
        (m, "00", _) if m == Mti::FINANCIAL_REQUEST => Some(Side::Debit),
        (m, "20", _) if m == Mti::FINANCIAL_REQUEST || m == Mti::FINANCIAL_ADVICE => {
            Some(Side::Credit)
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Debit,
    Credit,
}

/// Totals of a batch: amounts in minor units and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Totals {
    /// Sales and completions.
    pub debit: (u64, u32),
    /// Voids and refunds.
    pub credit: (u64, u32),
}

/// The result of a settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settlement {
    /// The batch that was settled.
    pub batch: u32,
    /// The terminal's totals.
    pub totals: Totals,
    /// The host agreed with them.
    pub balanced: bool,
    /// Transactions uploaded (0320): chip transactions with their TC always, the others
    /// when the totals did not agree.
    pub uploaded: usize,
}

/// An answered request: the record as journaled and the host's answer.
#[derive(Debug)]
pub struct Answered {
    /// The journal record (voucher number, outcome).
    pub record: Record,
    /// The answer.
    pub answer: Message<'static>,
}

/// The online session: host link, journal and keys, for one acquirer.
pub struct Online<'a, L, J, K> {
    link: &'a mut L,
    journal: &'a mut J,
    keys: &'a mut K,
    acquirer: &'a Acquirer,
    progress: Option<&'a mut dyn FnMut(Progress)>,
}

impl<L: core::fmt::Debug, J: core::fmt::Debug, K: core::fmt::Debug> core::fmt::Debug
    for Online<'_, L, J, K>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Online")
            .field("link", &self.link)
            .field("journal", &self.journal)
            .field("keys", &self.keys)
            .field("acquirer", &self.acquirer)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Where a long exchange is, for a front-end that shows progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// 签到中: the sign-in request is out.
    SigningIn,
    /// 冲正中: a queued reversal is being sent.
    Reversing,
    /// 结算中: the settlement request (0500) is out.
    Settling,
    /// 批上送: batch upload, `done` of `total` sent.
    Uploading {
        /// Records sent so far.
        done: u32,
        /// Records to send.
        total: u32,
    },
    /// 打印中: a slip is printing (reported by the runner that owns the printer).
    Printing,
}

impl core::fmt::Display for Progress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Progress::SigningIn => write!(f, "签到中 signing in"),
            Progress::Reversing => write!(f, "冲正中 sending a reversal"),
            Progress::Settling => write!(f, "结算中 settling"),
            Progress::Uploading { done, total } => {
                write!(f, "批上送 uploading the batch {done}/{total}")
            }
            Progress::Printing => write!(f, "打印中 printing"),
        }
    }
}

type Res<T, L, J, K> = Result<
    T,
    OnlineError<
        <L as pos_hal::ErrorType>::Error,
        <J as pos_hal::ErrorType>::Error,
        <K as pos_hal::ErrorType>::Error,
    >,
>;

impl<'a, L: HostLink, J: Journal, K: KeyStore> Online<'a, L, J, K> {
    /// A session over these ports.
    pub fn new(
        link: &'a mut L,
        journal: &'a mut J,
        keys: &'a mut K,
        acquirer: &'a Acquirer,
    ) -> Self {
        Self {
            link,
            journal,
            keys,
            acquirer,
            progress: None,
        }
    }

    /// Reports where long exchanges are (sign-in, reversals, settlement, batch upload).
    pub fn with_progress(mut self, progress: &'a mut dyn FnMut(Progress)) -> Self {
        self.progress = Some(progress);
        self
    }

    fn report(&mut self, step: Progress) {
        if let Some(p) = self.progress.as_mut() {
            p(step);
        }
    }

    fn seal(&mut self, msg: &mut Message<'_>) -> Res<Vec<u8>, L, J, K> {
        let mut mac_error = None;
        let alg = self.acquirer.mac;
        let keys = &mut *self.keys;
        let payload = self
            .acquirer
            .frame
            .encode_payload_with_mac(msg, |mab| match keys.mac(KeySlot::Mac, alg, mab) {
                Ok(m) => m,
                Err(e) => {
                    mac_error = Some(e);
                    [0; 8]
                }
            })
            .map_err(OnlineError::Codec)?;
        match mac_error {
            Some(e) => Err(OnlineError::Keys(e)),
            None => Ok(payload),
        }
    }

    /// Sends every queued reversal until the host acknowledges it; stops at the first one the
    /// host cannot be reached for.
    pub fn flush_reversals(&mut self, cancel: &CancelToken) -> Res<usize, L, J, K> {
        let due = self.journal.reversals_due().map_err(OnlineError::Journal)?;
        let mut sent = 0;
        for record in due {
            self.report(Progress::Reversing);
            let reason = match record.outcome {
                Outcome::Unknown(r) => r,
                _ => ReversalReason::NoAnswer,
            };
            let original = Message::unpack(&record.request).map_err(OnlineError::Codec)?;
            if !reversible(&original) {
                // An inquiry the power cut: there is nothing to give back.
                self.journal
                    .finish(record.id, &Outcome::Unanswered)
                    .map_err(OnlineError::Journal)?;
                continue;
            }
            let mut rev = original.into_owned();
            rev.set_mti(Mti::REVERSAL);
            for n in NOT_JOURNALED.iter().copied().chain([37, 38, 39]) {
                rev.remove(n);
            }
            rev.set_text(39, reason.code())
                .map_err(OnlineError::Codec)?;
            let payload = self.seal(&mut rev)?;
            let answer = self
                .link
                .exchange(&payload, self.acquirer.timeout, cancel)
                .map_err(OnlineError::ReversalPending)?;
            match check_answer(&mut *self.keys, self.acquirer.mac, &rev, &answer) {
                // Any readable, authentic answer acknowledges the reversal (`25`: the host never
                // saw the original — nothing to give back either).
                Ok(_) => {
                    self.journal
                        .finish(record.id, &Outcome::Reversed)
                        .map_err(OnlineError::Journal)?;
                    sent += 1;
                }
                Err(fault) => return Err(OnlineError::Answer(fault)),
            }
        }
        Ok(sent)
    }

    /// Sends a financial request: queued reversals first; then a new STAN, the terminal and
    /// merchant ids, the journal record (durable before sending), the MAC; then the answer
    /// checked and its outcome journaled. An unknown outcome is journaled for reversal.
    pub fn request(
        &mut self,
        mut msg: Message<'static>,
        cancel: &CancelToken,
    ) -> Res<Answered, L, J, K> {
        self.flush_reversals(cancel)?;
        let stan = self.stamp(&mut msg)?;
        let mut kept = msg.clone();
        for n in NOT_JOURNALED {
            kept.remove(n);
        }
        // A customer's payment code (scan-code payment, 22 = 032) is kept masked: enough for
        // a records query, of no use to whoever reads the journal.
        if msg
            .string(22)
            .ok()
            .flatten()
            .is_some_and(|e| e.starts_with("032"))
            && let Ok(Some(code)) = msg.string(59)
        {
            kept.set_text(59, crate::slip::mask_payment_code(&code))
                .map_err(OnlineError::Codec)?;
        }
        if let Ok(Some(icc)) = msg.text(55) {
            let subset = icc_subset(&icc, &REVERSAL_ICC_TAGS);
            if subset.is_empty() {
                kept.remove(55);
            } else {
                kept.set_bytes(55, subset).map_err(OnlineError::Codec)?;
            }
        }
        let stripped = kept.pack().map_err(OnlineError::Codec)?;
        let mut record = self
            .journal
            .begin(stan, &stripped)
            .map_err(OnlineError::Journal)?;
        let payload = self.seal(&mut msg)?;
        let answer = match self.link.exchange(&payload, self.acquirer.timeout, cancel) {
            Ok(a) => a,
            Err(e) if !reversible(&msg) => {
                self.journal
                    .finish(record.id, &Outcome::Unanswered)
                    .map_err(OnlineError::Journal)?;
                return Err(OnlineError::InquiryUnanswered(e));
            }
            Err(e) => {
                let outcome = Outcome::Unknown(ReversalReason::NoAnswer);
                self.journal
                    .finish(record.id, &outcome)
                    .map_err(OnlineError::Journal)?;
                return Err(OnlineError::Link(e));
            }
        };
        let rsp = match check_answer(&mut *self.keys, self.acquirer.mac, &msg, &answer) {
            Ok(rsp) => rsp.into_owned(),
            Err(fault) if !reversible(&msg) => {
                self.journal
                    .finish(record.id, &Outcome::Unanswered)
                    .map_err(OnlineError::Journal)?;
                return Err(OnlineError::InquiryRefused(fault));
            }
            Err(fault) => {
                let outcome = Outcome::Unknown(fault.reason());
                self.journal
                    .finish(record.id, &outcome)
                    .map_err(OnlineError::Journal)?;
                return Err(OnlineError::Answer(fault));
            }
        };
        let rc = rsp.response_code().ok().flatten().unwrap_or_default();
        record.outcome = if rc == "00" {
            Outcome::Approved {
                rrn: rsp.string(37).ok().flatten().unwrap_or_default(),
                auth: rsp.string(38).ok().flatten().unwrap_or_default(),
                host_time: host_time(&rsp),
            }
        } else {
            Outcome::Declined { rc: rc.to_string() }
        };
        self.journal
            .finish(record.id, &record.outcome)
            .map_err(OnlineError::Journal)?;
        Ok(Answered {
            record,
            answer: rsp,
        })
    }

    /// Signs in (0800/0810): the working keys of field 62 are unwrapped and checked by the key
    /// store under `master` — they never pass through here in clear — and the batch number is
    /// journaled. On a key failure all working keys are erased: the terminal is not signed in.
    /// `with_tdk` asks for a track data key (60.3 `004`).
    pub fn sign_in(
        &mut self,
        operator: &str,
        master: KeySlot,
        layout: &crate::crypto::KeyBlockLayout,
        with_tdk: bool,
        cancel: &CancelToken,
    ) -> Res<u32, L, J, K> {
        self.report(Progress::SigningIn);
        let stan = self.journal.next_stan().map_err(OnlineError::Journal)?;
        let batch = self.journal.batch().map_err(OnlineError::Journal)?;
        let mut msg = Message::new(Mti::NETWORK_REQUEST);
        msg.set_stan(stan).map_err(OnlineError::Codec)?;
        msg.set_text(41, self.acquirer.terminal_id.clone())
            .map_err(OnlineError::Codec)?;
        msg.set_text(42, self.acquirer.merchant_id.clone())
            .map_err(OnlineError::Codec)?;
        let code = if with_tdk { "004" } else { "003" };
        msg.set_text(60, alloc::format!("00{batch:06}{code}"))
            .map_err(OnlineError::Codec)?;
        msg.set_text(63, alloc::format!("{operator:<3}"))
            .map_err(OnlineError::Codec)?;
        let payload = self
            .acquirer
            .frame
            .encode_payload(&msg)
            .map_err(OnlineError::Codec)?;
        let answer = self
            .link
            .exchange(&payload, self.acquirer.timeout, cancel)
            .map_err(OnlineError::Unreachable)?;
        let rsp = check_answer(&mut *self.keys, self.acquirer.mac, &msg, &answer)
            .map_err(OnlineError::Answer)?;
        let rc = rsp.response_code().ok().flatten().unwrap_or_default();
        if rc != "00" {
            return Err(OnlineError::Rejected { rc });
        }
        let block = rsp
            .text(62)
            .map_err(OnlineError::Codec)?
            .unwrap_or_default();
        let parts =
            crate::crypto::key_block_parts(&block, layout).map_err(OnlineError::KeyBlock)?;
        for part in &parts {
            if let Err(e) =
                self.keys
                    .load_working_key(part.slot, master, part.encrypted, part.check_value)
            {
                for slot in [KeySlot::Pin, KeySlot::Mac, KeySlot::Track] {
                    let _ = self.keys.erase(slot);
                }
                return Err(OnlineError::Keys(e));
            }
        }
        let batch = rsp
            .batch_number()
            .map_err(OnlineError::Codec)?
            .unwrap_or(batch);
        self.journal
            .set_batch(batch)
            .map_err(OnlineError::Journal)?;
        Ok(batch)
    }

    /// The echo test (回响测试, 0820 with 60.3 `301`): one round trip that moves nothing and
    /// needs no keys; `Ok` when the host answered `00` to this very request. The runner times
    /// it for the network check.
    pub fn echo(&mut self, cancel: &CancelToken) -> Res<(), L, J, K> {
        let batch = self.journal.batch().map_err(OnlineError::Journal)?;
        let msg = self.management(Mti::NETWORK_ADVICE, batch, "301")?;
        self.plain_exchange(&msg, cancel).map(|_| ())
    }

    /// Sends a script result advice (0620, built by
    /// [`crate::requests::script_advice`]) with a new STAN and the terminal's ids; `Ok` when
    /// the host acknowledged it. Nothing is journaled: a host that never hears of a script's
    /// result sends it again with the card's next online transaction.
    pub fn script_advice(
        &mut self,
        mut msg: Message<'static>,
        cancel: &CancelToken,
    ) -> Res<(), L, J, K> {
        self.stamp(&mut msg)?;
        self.plain_exchange(&msg, cancel).map(|_| ())
    }

    /// A new STAN from the journal and this terminal's ids (41, 42) on `msg`.
    fn stamp(&mut self, msg: &mut Message<'static>) -> Res<u32, L, J, K> {
        let stan = self.journal.next_stan().map_err(OnlineError::Journal)?;
        msg.set_stan(stan).map_err(OnlineError::Codec)?;
        msg.set_text(41, self.acquirer.terminal_id.clone())
            .map_err(OnlineError::Codec)?;
        msg.set_text(42, self.acquirer.merchant_id.clone())
            .map_err(OnlineError::Codec)?;
        Ok(stan)
    }

    /// The totals of the open batch from the journal: approved sales and completions (debit),
    /// voids and refunds (credit); reversed ones do not count.
    pub fn totals(&mut self) -> Res<Totals, L, J, K> {
        let batch = self.journal.batch().map_err(OnlineError::Journal)?;
        let mut totals = Totals::default();
        for record in self.journal.records(batch).map_err(OnlineError::Journal)? {
            if !matches!(record.outcome, Outcome::Approved { .. }) {
                continue;
            }
            let Ok(request) = Message::unpack(&record.request) else {
                continue;
            };
            let amount = request.amount().ok().flatten().map_or(0, |a| a.minor());
            let side = match counts_as(&request) {
                Some(Side::Debit) => &mut totals.debit,
                Some(Side::Credit) => &mut totals.credit,
                None => continue,
            };
            side.0 += amount;
            side.1 += 1;
        }
        Ok(totals)
    }

    fn management(&mut self, mti: Mti, batch: u32, code: &str) -> Res<Message<'static>, L, J, K> {
        let stan = self.journal.next_stan().map_err(OnlineError::Journal)?;
        let mut m = Message::new(mti);
        m.set_stan(stan).map_err(OnlineError::Codec)?;
        m.set_text(41, self.acquirer.terminal_id.clone())
            .map_err(OnlineError::Codec)?;
        m.set_text(42, self.acquirer.merchant_id.clone())
            .map_err(OnlineError::Codec)?;
        m.set_text(60, alloc::format!("00{batch:06}{code}"))
            .map_err(OnlineError::Codec)?;
        Ok(m)
    }

    fn plain_exchange(
        &mut self,
        msg: &Message<'_>,
        cancel: &CancelToken,
    ) -> Res<Message<'static>, L, J, K> {
        let payload = self
            .acquirer
            .frame
            .encode_payload(msg)
            .map_err(OnlineError::Codec)?;
        let answer = self
            .link
            .exchange(&payload, self.acquirer.timeout, cancel)
            .map_err(OnlineError::Unreachable)?;
        let rsp = check_answer(&mut *self.keys, self.acquirer.mac, msg, &answer)
            .map_err(OnlineError::Answer)?
            .into_owned();
        match rsp.response_code().ok().flatten() {
            Some(rc) if rc == "00" => Ok(rsp),
            rc => Err(OnlineError::Rejected {
                rc: rc.unwrap_or_default(),
            }),
        }
    }

    /// Whether the open batch was opened on an earlier business day than `today` (local
    /// time `utc_offset_secs` east of UTC): Lakala terminals settle such a batch before
    /// anything else ("上批未结，请先结完上批"). `Some(batch)` when it is due.
    pub fn settlement_due(
        &mut self,
        today: pos_hal::DateTime,
        utc_offset_secs: i64,
    ) -> Res<Option<u32>, L, J, K> {
        let batch = self.journal.batch().map_err(OnlineError::Journal)?;
        let Some(started) = self
            .journal
            .batch_started(batch)
            .map_err(OnlineError::Journal)?
        else {
            return Ok(None);
        };
        let Ok(opened) = pos_hal::DateTime::from_unix(started, utc_offset_secs) else {
            return Ok(None);
        };
        let day = |d: &pos_hal::DateTime| (d.year(), d.month(), d.day());
        Ok((day(&opened) < day(&today)).then_some(batch))
    }

    /// Settles the open batch: queued reversals first, then 0500 with the journal's totals;
    /// when the host's totals differ, every approved transaction is uploaded (0320, then the
    /// end-of-upload message). The next batch is opened either way.
    pub fn settle(&mut self, operator: &str, cancel: &CancelToken) -> Res<Settlement, L, J, K> {
        self.flush_reversals(cancel)?;
        // Offline approvals first: the host's totals must count them too.
        self.upload_offline(cancel)?;
        let batch = self.journal.batch().map_err(OnlineError::Journal)?;
        let totals = self.totals()?;
        self.report(Progress::Settling);
        let mut m = self.management(Mti::SETTLEMENT, batch, "201")?;
        let f48 = alloc::format!(
            "{:012}{:03}{:012}{:03}0{}",
            totals.debit.0,
            totals.debit.1,
            totals.credit.0,
            totals.credit.1,
            "0".repeat(31)
        );
        m.set_text(48, f48).map_err(OnlineError::Codec)?;
        m.set_text(49, "156").map_err(OnlineError::Codec)?;
        m.set_text(63, alloc::format!("{operator:<3}"))
            .map_err(OnlineError::Codec)?;
        let rsp = self.plain_exchange(&m, cancel)?;
        // 48 position 31: 1 balanced, 2 not (notes/payments-cup-emv.md).
        let balanced = rsp
            .string(48)
            .ok()
            .flatten()
            .and_then(|s| s.chars().nth(30))
            == Some('1');
        let mut uploaded = 0;
        let records = self.journal.records(batch).map_err(OnlineError::Journal)?;
        /// The request of a record the batch upload carries: approved, counted in the totals,
        /// and a chip transaction (its TC always goes up) or any when the totals disagree.
        fn to_upload(record: &crate::journal::Record, balanced: bool) -> Option<Message<'_>> {
            if !matches!(record.outcome, Outcome::Approved { .. }) {
                return None;
            }
            let request = Message::unpack(&record.request).ok()?;
            counts_as(&request)?;
            (!record.icc.is_empty() || !balanced).then_some(request)
        }
        let total = records
            .iter()
            .filter(|r| to_upload(r, balanced).is_some())
            .count() as u32;
        for record in &records {
            let Some(request) = to_upload(record, balanced) else {
                continue;
            };
            self.report(Progress::Uploading {
                done: uploaded as u32,
                total,
            });
            if !record.icc.is_empty() {
                // Chip transactions go up with their TC whether or not the totals agree
                // (60.3 203, notes/payments-cup-emv.md §2.12).
                let mut up = self.management(Mti::BATCH_UPLOAD, batch, "203")?;
                for n in [2u8, 3, 4, 22, 23, 49] {
                    if let Ok(Some(v)) = request.text(n) {
                        up.set_text(n, String::from_utf8_lossy(&v).into_owned())
                            .map_err(OnlineError::Codec)?;
                    }
                }
                up.set_text(11, alloc::format!("{:06}", record.stan))
                    .map_err(OnlineError::Codec)?;
                up.set_bytes(55, record.icc.clone())
                    .map_err(OnlineError::Codec)?;
                self.plain_exchange(&up, cancel)?;
                uploaded += 1;
            } else if !balanced {
                let pan = request
                    .text(2)
                    .ok()
                    .flatten()
                    .map(|p| String::from_utf8_lossy(&p).into_owned())
                    .unwrap_or_default();
                let amount = request.amount().ok().flatten().map_or(0, |a| a.minor());
                let mut up = self.management(Mti::BATCH_UPLOAD, batch, "201")?;
                up.set_text(
                    48,
                    alloc::format!("0100{:06}{pan:0>20}{amount:012}", record.stan),
                )
                .map_err(OnlineError::Codec)?;
                self.plain_exchange(&up, cancel)?;
                uploaded += 1;
            }
        }
        // The end of the upload goes even when nothing was uploaded ("二代平台对账平也需要批结束").
        let mut end = self.management(
            Mti::BATCH_UPLOAD,
            batch,
            if balanced { "207" } else { "202" },
        )?;
        end.set_text(48, alloc::format!("{uploaded:04}"))
            .map_err(OnlineError::Codec)?;
        self.plain_exchange(&end, cancel)?;
        self.journal
            .set_batch(batch % 999_999 + 1)
            .map_err(OnlineError::Journal)?;
        Ok(Settlement {
            batch,
            totals,
            balanced,
            uploaded,
        })
    }

    /// Journals a transaction the card approved offline (electronic cash): the request as
    /// [`crate::requests::ec_sale`] builds it (nothing secret is kept, as for every request)
    /// and the chip's data with its TC, approved; the settlement uploads it before the
    /// totals. Nothing is sent now.
    pub fn record_offline(
        &mut self,
        mut msg: Message<'static>,
        icc: &[u8],
    ) -> Res<Record, L, J, K> {
        let stan = self.journal.next_stan().map_err(OnlineError::Journal)?;
        msg.set_stan(stan).map_err(OnlineError::Codec)?;
        msg.set_text(41, self.acquirer.terminal_id.clone())
            .map_err(OnlineError::Codec)?;
        msg.set_text(42, self.acquirer.merchant_id.clone())
            .map_err(OnlineError::Codec)?;
        for n in NOT_JOURNALED {
            msg.remove(n);
        }
        msg.remove(55);
        let packed = msg.pack().map_err(OnlineError::Codec)?;
        let mut record = self
            .journal
            .begin(stan, &packed)
            .map_err(OnlineError::Journal)?;
        self.journal
            .set_icc(record.id, icc)
            .map_err(OnlineError::Journal)?;
        record.outcome = Outcome::Approved {
            rrn: String::new(),
            auth: String::new(),
            host_time: String::new(),
        };
        self.journal
            .finish(record.id, &record.outcome)
            .map_err(OnlineError::Journal)?;
        Ok(record.with_icc(icc.to_vec()))
    }

    /// Uploads the open batch's offline approvals (electronic cash, 60.1 = 36) with their TC
    /// (0320, 60.1 = 36, this project's dialect), so that the host's totals count them;
    /// returns how many went up. The host books each once, however often it is sent.
    pub fn upload_offline(&mut self, cancel: &CancelToken) -> Res<usize, L, J, K> {
        let batch = self.journal.batch().map_err(OnlineError::Journal)?;
        let records = self.journal.records(batch).map_err(OnlineError::Journal)?;
        let mut sent = 0;
        for record in &records {
            if !matches!(record.outcome, Outcome::Approved { .. }) || record.icc.is_empty() {
                continue;
            }
            let Ok(request) = Message::unpack(&record.request) else {
                continue;
            };
            if request.transaction_type().ok().flatten().as_deref() != Some("36") {
                continue;
            }
            let mut up = request.into_owned();
            up.set_mti(Mti::BATCH_UPLOAD);
            up.set_bytes(55, record.icc.clone())
                .map_err(OnlineError::Codec)?;
            self.plain_exchange(&up, cancel)?;
            sent += 1;
        }
        Ok(sent)
    }

    /// After an approval the terminal could not complete (receipt not printed, power about to
    /// go): the transaction is reversed before the next one.
    pub fn abandon(&mut self, record_id: u64) -> Res<(), L, J, K> {
        self.journal
            .finish(record_id, &Outcome::Unknown(ReversalReason::Other))
            .map_err(OnlineError::Journal)
    }
}
