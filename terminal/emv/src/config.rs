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
    /// The largest electronic cash transaction approved offline, in cents (EC Terminal
    /// Transaction Limit, 9F7B); over it, electronic cash goes online like any sale.
    pub ec_terminal_limit: u64,
    /// The contactless reader's limits (qPBOC): transaction, CVM and floor limit; under
    /// the floor limit a card with electronic cash may approve a tap offline.
    pub contactless: crate::contactless::ContactlessLimits,
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
            capabilities: [0xE0, 0xF8, 0xC8],
            additional_capabilities: [0x6F, 0x00, 0xF0, 0xF0, 0x01],
            ifd_serial: *b"00000001",
            merchant_category: [0x53, 0x11],
            online_capable: true,
            ec_terminal_limit: 100_000,
            contactless: crate::contactless::ContactlessLimits::default(),
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

#[cfg(feature = "config")]
pub use file::ConfigFileError;

#[cfg(feature = "config")]
mod file {
    extern crate std;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use serde::Deserialize;

    use super::{AidConfig, TerminalConfig};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Aid {
        aid: String,
        #[serde(default)]
        partial: bool,
        #[serde(default = "version")]
        version: String,
        tac_denial: String,
        tac_online: String,
        tac_default: String,
        #[serde(default)]
        floor_limit: u64,
        #[serde(default)]
        random_threshold: u64,
        #[serde(default)]
        random_target: u8,
        #[serde(default)]
        random_max_target: u8,
        #[serde(default = "ddol")]
        default_ddol: String,
        #[serde(default)]
        default_tdol: String,
    }

    fn version() -> String {
        "0030".into()
    }

    fn ddol() -> String {
        "9F3704".into()
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        country: Option<String>,
        currency: Option<String>,
        terminal_type: Option<String>,
        capabilities: Option<String>,
        additional_capabilities: Option<String>,
        ifd_serial: Option<String>,
        merchant_category: Option<String>,
        online_capable: Option<bool>,
        ec_terminal_limit: Option<u64>,
        contactless: Option<Contactless>,
        #[serde(default)]
        aid: Vec<Aid>,
    }

    /// `[contactless]`: amounts in cents; each optional.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Contactless {
        transaction_limit: Option<u64>,
        cvm_limit: Option<u64>,
        floor_limit: Option<u64>,
    }

    /// Why a terminal configuration file was refused.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum ConfigFileError {
        /// Not TOML of the expected shape.
        Syntax(String),
        /// A field is not hex (or text) of the right size.
        Field(&'static str),
        /// No `[[aid]]`: the terminal would accept no card.
        NoAid,
    }

    impl core::fmt::Display for ConfigFileError {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self {
                ConfigFileError::Syntax(e) => write!(f, "EMV configuration: {e}"),
                ConfigFileError::Field(field) => {
                    write!(
                        f,
                        "EMV configuration: `{field}` has the wrong size or is not hex"
                    )
                }
                ConfigFileError::NoAid => f.write_str("EMV configuration: no [[aid]] table"),
            }
        }
    }

    impl std::error::Error for ConfigFileError {}

    fn hex_n<const N: usize>(text: &str, field: &'static str) -> Result<[u8; N], ConfigFileError> {
        hex::decode(text.replace(' ', ""))
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or(ConfigFileError::Field(field))
    }

    fn hex_vec(text: &str, field: &'static str) -> Result<Vec<u8>, ConfigFileError> {
        hex::decode(text.replace(' ', "")).map_err(|_| ConfigFileError::Field(field))
    }

    impl TerminalConfig {
        /// A terminal configuration from TOML: the terminal's own data (each optional, the
        /// [`TerminalConfig::china_pos`] value otherwise) and `[[aid]]` tables with their
        /// action codes, limits and default DOLs.
        ///
        /// ```
        /// let t = pos_emv::TerminalConfig::from_toml(r#"
        /// capabilities = "E068C8"
        /// [[aid]]
        /// aid = "A0000003330101"
        /// partial = true
        /// tac_denial = "0010000000"
        /// tac_online = "D84004F800"
        /// tac_default = "D84000A800"
        /// floor_limit = 50000
        /// "#).unwrap();
        /// assert_eq!(t.aids[0].floor_limit, 50000);
        /// ```
        pub fn from_toml(text: &str) -> Result<Self, ConfigFileError> {
            let file: File =
                toml::from_str(text).map_err(|e| ConfigFileError::Syntax(e.to_string()))?;
            let mut t = TerminalConfig::china_pos();
            if let Some(v) = &file.country {
                t.country = hex_n(v, "country")?;
            }
            if let Some(v) = &file.currency {
                t.currency = hex_n(v, "currency")?;
            }
            if let Some(v) = &file.terminal_type {
                t.terminal_type = hex_n::<1>(v, "terminal_type")?[0];
            }
            if let Some(v) = &file.capabilities {
                t.capabilities = hex_n(v, "capabilities")?;
            }
            if let Some(v) = &file.additional_capabilities {
                t.additional_capabilities = hex_n(v, "additional_capabilities")?;
            }
            if let Some(v) = &file.ifd_serial {
                t.ifd_serial = v
                    .as_bytes()
                    .try_into()
                    .map_err(|_| ConfigFileError::Field("ifd_serial"))?;
            }
            if let Some(v) = &file.merchant_category {
                t.merchant_category = hex_n(v, "merchant_category")?;
            }
            if let Some(v) = file.online_capable {
                t.online_capable = v;
            }
            if let Some(v) = file.ec_terminal_limit {
                if v >= 1_000_000_000_000 {
                    return Err(ConfigFileError::Field("ec_terminal_limit"));
                }
                t.ec_terminal_limit = v;
            }
            if let Some(c) = &file.contactless {
                let amount = |v: Option<u64>, default: u64, field| match v {
                    Some(v) if v >= 1_000_000_000_000 => Err(ConfigFileError::Field(field)),
                    Some(v) => Ok(v),
                    None => Ok(default),
                };
                let limits = &mut t.contactless;
                limits.transaction_limit = amount(
                    c.transaction_limit,
                    limits.transaction_limit,
                    "contactless.transaction_limit",
                )?;
                limits.cvm_limit = amount(c.cvm_limit, limits.cvm_limit, "contactless.cvm_limit")?;
                limits.floor_limit =
                    amount(c.floor_limit, limits.floor_limit, "contactless.floor_limit")?;
            }
            if file.aid.is_empty() {
                return Err(ConfigFileError::NoAid);
            }
            t.aids = file
                .aid
                .iter()
                .map(|a| {
                    let aid = hex_vec(&a.aid, "aid")?;
                    if !(5..=16).contains(&aid.len()) {
                        return Err(ConfigFileError::Field("aid"));
                    }
                    if a.random_target > 99 || a.random_max_target > 99 {
                        return Err(ConfigFileError::Field("random_target"));
                    }
                    Ok(AidConfig {
                        aid,
                        partial: a.partial,
                        version: hex_n(&a.version, "version")?,
                        tac_denial: hex_n(&a.tac_denial, "tac_denial")?,
                        tac_online: hex_n(&a.tac_online, "tac_online")?,
                        tac_default: hex_n(&a.tac_default, "tac_default")?,
                        floor_limit: a.floor_limit,
                        random_threshold: a.random_threshold,
                        random_target: a.random_target,
                        random_max_target: a.random_max_target,
                        default_ddol: hex_vec(&a.default_ddol, "default_ddol")?,
                        default_tdol: hex_vec(&a.default_tdol, "default_tdol")?,
                    })
                })
                .collect::<Result<_, _>>()?;
            Ok(t)
        }
    }
}
