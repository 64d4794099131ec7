//! Terminal verification results (95) and transaction status information (9B).

use core::fmt;

/// One TVR bit: byte (0-based) and mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TvrBit(pub u8, pub u8);

/// TVR bits the kernel sets (EMV Book 3 Annex C5).
pub mod bit {
    use super::TvrBit;
    /// Offline data authentication was not performed.
    pub const ODA_NOT_PERFORMED: TvrBit = TvrBit(0, 0x80);
    /// SDA failed.
    pub const SDA_FAILED: TvrBit = TvrBit(0, 0x40);
    /// ICC data missing.
    pub const ICC_DATA_MISSING: TvrBit = TvrBit(0, 0x20);
    /// DDA failed.
    pub const DDA_FAILED: TvrBit = TvrBit(0, 0x08);
    /// CDA failed.
    pub const CDA_FAILED: TvrBit = TvrBit(0, 0x04);
    /// SDA selected.
    pub const SDA_SELECTED: TvrBit = TvrBit(0, 0x02);
    /// ICC and terminal have different application versions.
    pub const VERSION_MISMATCH: TvrBit = TvrBit(1, 0x80);
    /// Expired application.
    pub const EXPIRED: TvrBit = TvrBit(1, 0x40);
    /// Application not yet effective.
    pub const NOT_YET_EFFECTIVE: TvrBit = TvrBit(1, 0x20);
    /// Requested service not allowed for card product.
    pub const SERVICE_NOT_ALLOWED: TvrBit = TvrBit(1, 0x10);
    /// New card.
    pub const NEW_CARD: TvrBit = TvrBit(1, 0x08);
    /// Cardholder verification was not successful.
    pub const CVM_FAILED: TvrBit = TvrBit(2, 0x80);
    /// Unrecognised CVM.
    pub const UNRECOGNISED_CVM: TvrBit = TvrBit(2, 0x40);
    /// PIN try limit exceeded.
    pub const PIN_TRY_LIMIT_EXCEEDED: TvrBit = TvrBit(2, 0x20);
    /// PIN entry required and PIN pad not present or not working.
    pub const PIN_PAD_MISSING: TvrBit = TvrBit(2, 0x10);
    /// PIN entry required, PIN pad present, but PIN was not entered.
    pub const PIN_NOT_ENTERED: TvrBit = TvrBit(2, 0x08);
    /// Online PIN entered.
    pub const ONLINE_PIN_ENTERED: TvrBit = TvrBit(2, 0x04);
    /// Transaction exceeds floor limit.
    pub const FLOOR_LIMIT_EXCEEDED: TvrBit = TvrBit(3, 0x80);
    /// Lower consecutive offline limit exceeded.
    pub const LCOL_EXCEEDED: TvrBit = TvrBit(3, 0x40);
    /// Upper consecutive offline limit exceeded.
    pub const UCOL_EXCEEDED: TvrBit = TvrBit(3, 0x20);
    /// Transaction selected randomly for online processing.
    pub const RANDOM_ONLINE: TvrBit = TvrBit(3, 0x10);
    /// Merchant forced transaction online.
    pub const MERCHANT_FORCED_ONLINE: TvrBit = TvrBit(3, 0x08);
    /// Default TDOL used.
    pub const DEFAULT_TDOL: TvrBit = TvrBit(4, 0x80);
    /// Issuer authentication failed.
    pub const ISSUER_AUTH_FAILED: TvrBit = TvrBit(4, 0x40);
    /// Script processing failed before final GENERATE AC.
    pub const SCRIPT_FAILED_BEFORE: TvrBit = TvrBit(4, 0x20);
    /// Script processing failed after final GENERATE AC.
    pub const SCRIPT_FAILED_AFTER: TvrBit = TvrBit(4, 0x10);
}

/// Terminal verification results.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Tvr(pub [u8; 5]);

impl Tvr {
    /// Sets a bit.
    pub fn set(&mut self, bit: TvrBit) {
        self.0[usize::from(bit.0)] |= bit.1;
    }

    /// Whether a bit is set.
    pub fn has(&self, bit: TvrBit) -> bool {
        self.0[usize::from(bit.0)] & bit.1 != 0
    }

    /// Whether any bit of `action_code` (a TAC or IAC) is set here.
    pub fn matches(&self, action_code: &[u8; 5]) -> bool {
        self.0.iter().zip(action_code).any(|(t, a)| t & a != 0)
    }
}

impl fmt::Debug for Tvr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Tvr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

/// Transaction status information bits (Book 3 Annex C6).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Tsi(pub [u8; 2]);

impl Tsi {
    /// Offline data authentication was performed.
    pub const ODA: u8 = 0x80;
    /// Cardholder verification was performed.
    pub const CVM: u8 = 0x40;
    /// Card risk management was performed.
    pub const CARD_RISK: u8 = 0x20;
    /// Issuer authentication was performed.
    pub const ISSUER_AUTH: u8 = 0x10;
    /// Terminal risk management was performed.
    pub const TERMINAL_RISK: u8 = 0x08;
    /// Script processing was performed.
    pub const SCRIPTS: u8 = 0x04;

    /// Sets a first-byte bit.
    pub fn set(&mut self, bit: u8) {
        self.0[0] |= bit;
    }

    /// Whether a first-byte bit is set.
    pub fn has(&self, bit: u8) -> bool {
        self.0[0] & bit != 0
    }
}

impl fmt::Debug for Tsi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Tsi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X}{:02X}", self.0[0], self.0[1])
    }
}
