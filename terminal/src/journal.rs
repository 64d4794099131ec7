//! The journal port: what the terminal must remember across a power loss, written *before* a
//! request goes out and updated with its outcome. The platform implements it durably (SQLite in
//! `pos-platform`); the rules live here, once.

use alloc::string::String;
use alloc::vec::Vec;

use pos_hal::ErrorType;

/// Why a request's outcome is unknown, and so why it is reversed (field 39 of the 0400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReversalReason {
    /// No (complete) answer: timeout, link broken, power lost while waiting (`98`).
    NoAnswer,
    /// The answer's MAC failed or was missing (`A0`).
    MacFailure,
    /// The answer did not echo the request, or the terminal failed after approval — printer,
    /// power — (`06`).
    Other,
}

impl ReversalReason {
    /// The response code the 0400 carries in field 39.
    pub const fn code(self) -> &'static str {
        match self {
            ReversalReason::NoAnswer => "98",
            ReversalReason::MacFailure => "A0",
            ReversalReason::Other => "06",
        }
    }

    /// From a stored code (unknown codes: `06`).
    pub fn from_code(code: &str) -> Self {
        match code {
            "98" => ReversalReason::NoAnswer,
            "A0" => ReversalReason::MacFailure,
            _ => ReversalReason::Other,
        }
    }
}

/// Where a journaled request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Written, sent or about to be; no answer yet. Found at start-up, it means the power went
    /// while waiting: the outcome is unknown.
    Pending,
    /// Approved (`00`), with the host's reference and authorisation code.
    Approved {
        /// Field 37.
        rrn: String,
        /// Field 38.
        auth: String,
        /// The host's date and time of the transaction, `MMDDhhmmss` (fields 13 and 12 of
        /// the answer); empty when the host sent none or the approval was offline.
        host_time: String,
    },
    /// Declined with this response code.
    Declined {
        /// Field 39.
        rc: String,
    },
    /// Outcome unknown: a reversal is queued until the host acknowledges it.
    Unknown(ReversalReason),
    /// Reversed, and the host acknowledged the reversal.
    Reversed,
    /// No usable answer to a request that moves no money (a balance inquiry): CUP does not
    /// reverse those, so nothing is queued.
    Unanswered,
}

/// A request as the journal keeps it. `request` is the packed ISO 8583 message (no frame, no
/// MAC) *without* track data or PIN block, and with field 55 cut down to what a reversal
/// carries — enough to build its reversal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// The journal's id.
    pub id: u64,
    /// Field 11.
    pub stan: u32,
    /// Field 60.2.
    pub batch: u32,
    /// The receipt number printed on the slip.
    pub voucher: u32,
    /// The stripped request.
    pub request: Vec<u8>,
    /// Where it stands.
    pub outcome: Outcome,
    /// The chip's data after completion (field 55 with the TC), uploaded at settlement;
    /// empty for cards without a chip transaction.
    pub icc: Vec<u8>,
    /// When the record was written (Unix seconds), when the journal keeps it: the date and
    /// time of a reprint.
    pub created: Option<u64>,
}

impl Record {
    /// A record (the journal fills in what it assigns).
    pub fn new(
        id: u64,
        stan: u32,
        batch: u32,
        voucher: u32,
        request: Vec<u8>,
        outcome: Outcome,
    ) -> Self {
        Self {
            id,
            stan,
            batch,
            voucher,
            request,
            outcome,
            icc: Vec::new(),
            created: None,
        }
    }

    /// With the time it was written.
    pub fn with_created(mut self, created: Option<u64>) -> Self {
        self.created = created;
        self
    }

    /// With the chip's completion data.
    pub fn with_icc(mut self, icc: Vec<u8>) -> Self {
        self.icc = icc;
        self
    }
}

/// Durable terminal state. Every method either has made its change durable when it returns
/// `Ok`, or has changed nothing.
pub trait Journal: ErrorType {
    /// The next STAN (1..=999999, then 1 again), never handed out twice.
    fn next_stan(&mut self) -> Result<u32, Self::Error>;
    /// The open batch number.
    fn batch(&mut self) -> Result<u32, Self::Error>;
    /// Sets the batch number (from the sign-in answer or after settlement).
    fn set_batch(&mut self, batch: u32) -> Result<(), Self::Error>;
    /// Writes a request about to be sent ([`Outcome::Pending`]) and returns its record with
    /// the voucher number assigned.
    fn begin(&mut self, stan: u32, request: &[u8]) -> Result<Record, Self::Error>;
    /// Records the outcome of record `id`.
    fn finish(&mut self, id: u64, outcome: &Outcome) -> Result<(), Self::Error>;
    /// Keeps the chip's completion data of record `id` (field 55 with the final cryptogram)
    /// for the settlement's batch upload.
    fn set_icc(&mut self, id: u64, icc: &[u8]) -> Result<(), Self::Error>;
    /// Records whose reversal has not been acknowledged yet (oldest first). Pending records
    /// (power lost while waiting) count: they become [`Outcome::Unknown`] with
    /// [`ReversalReason::NoAnswer`].
    fn reversals_due(&mut self) -> Result<Vec<Record>, Self::Error>;
    /// The record with this voucher number (reprint).
    fn by_voucher(&mut self, voucher: u32) -> Result<Option<Record>, Self::Error>;
    /// The last record (reprint last).
    fn last(&mut self) -> Result<Option<Record>, Self::Error>;
    /// Every record of `batch`, oldest first (settlement totals, batch upload, records query).
    fn records(&mut self, batch: u32) -> Result<Vec<Record>, Self::Error>;
    /// When the first record of `batch` was written (Unix seconds), `None` for an empty
    /// batch: the forced settlement of a batch left open from an earlier day.
    fn batch_started(&mut self, batch: u32) -> Result<Option<u64>, Self::Error>;
}
