//! What the terminal is configured with: its own data elements and, per AID, the action
//! codes and limits (data, so a bench or an acquirer's parameter download changes them).

use alloc::vec::Vec;

/// One application the terminal accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AidConfig {
    /// The AID (5..=16 bytes).
    pub aid: Vec<u8>,
    /// Whether a longer card AID starting with this one matches (EMV partial selection).
    pub partial: bool,
    /// Terminal application version (9F09).
    pub version: [u8; 2],
    /// Terminal action code — denial.
    pub tac_denial: [u8; 5],
    /// Terminal action code — online.
    pub tac_online: [u8; 5],
    /// Terminal action code — default.
    pub tac_default: [u8; 5],
    /// Floor limit in cents (9F1B).
    pub floor_limit: u64,
    /// Random selection: below this amount (cents) the target percentage applies…
    pub random_threshold: u64,
    /// …target percentage (0..=99) for amounts below the threshold…
    pub random_target: u8,
    /// …rising to this maximum percentage at the floor limit.
    pub random_max_target: u8,
    /// DDOL used when the card has none.
    pub default_ddol: Vec<u8>,
    /// TDOL used when the card has none.
    pub default_tdol: Vec<u8>,
}

impl AidConfig {
    /// UnionPay (RID A000000333, partial selection on `A0000003330101`) with CUP-style
    /// defaults: TACs that send everything with an ODA or CVM problem online, floor limit 0
    /// (a bank-card POS goes online for every sale).
    pub fn unionpay() -> Self {
        Self {
            aid: alloc::vec![0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01],
            partial: true,
            version: [0x00, 0x30],
            tac_denial: [0x00, 0x10, 0x00, 0x00, 0x00],
            tac_online: [0xD8, 0x40, 0x04, 0xF8, 0x00],
            tac_default: [0xD8, 0x40, 0x00, 0xA8, 0x00],
            floor_limit: 0,
            random_threshold: 0,
            random_target: 0,
            random_max_target: 0,
            default_ddol: alloc::vec![0x9F, 0x37, 0x04],
            default_tdol: Vec::new(),
        }
    }
}

/// The terminal's own data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalConfig {
    /// Terminal country code (9F1A), e.g. `0156`.
    pub country: [u8; 2],
    /// Transaction currency code (5F2A), e.g. `0156`.
    pub currency: [u8; 2],
    /// Currency exponent (5F36).
    pub currency_exponent: u8,
    /// Terminal type (9F35): `22` attended, merchant-operated, online with offline capability.
    pub terminal_type: u8,
    /// Terminal capabilities (9F33).
    pub capabilities: [u8; 3],
    /// Additional terminal capabilities (9F40).
    pub additional_capabilities: [u8; 5],
    /// Interface device serial number (9F1E), 8 characters.
    pub ifd_serial: [u8; 8],
    /// Merchant category code (9F15).
    pub merchant_category: [u8; 2],
    /// Whether the terminal can go online at all.
    pub online_capable: bool,
    /// The applications accepted, in the terminal's order of preference.
    pub aids: Vec<AidConfig>,
}

impl TerminalConfig {
    /// A Chinese attended POS: CNY, online with offline capability, offline plaintext PIN,
    /// online PIN, signature and no-CVM, SDA/DDA/CDA, UnionPay accepted.
    pub fn china_pos() -> Self {
        Self {
            country: [0x01, 0x56],
            currency: [0x01, 0x56],
            currency_exponent: 2,
            terminal_type: 0x22,
            capabilities: [0xE0, 0xE8, 0xC8],
            additional_capabilities: [0x6F, 0x00, 0xF0, 0xF0, 0x01],
            ifd_serial: *b"00000001",
            merchant_category: [0x53, 0x11],
            online_capable: true,
            aids: alloc::vec![AidConfig::unionpay()],
        }
    }

    /// Whether the terminal supports the CVM with method code `method` (9F33 byte 2).
    pub fn supports_cvm(&self, method: u8) -> bool {
        let caps = self.capabilities[1];
        match method & 0x3F {
            0x01 => caps & 0x80 != 0,
            0x02 => caps & 0x40 != 0,
            0x03 => caps & 0x80 != 0 && caps & 0x20 != 0,
            0x04 => caps & 0x10 != 0,
            0x05 => caps & 0x10 != 0 && caps & 0x20 != 0,
            0x1E => caps & 0x20 != 0,
            0x1F => caps & 0x08 != 0,
            _ => false,
        }
    }
}
