//! The bench description file: which device plays each role.

use std::path::Path;

use serde::Deserialize;

/// One role: the simulator, a real device by selector, or nothing on this bench.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The runner starts and stops the simulator.
    Sim,
    /// A real device, by its pos-devices selector (`pcsc:~ACR1252`, `tcp:host:port` for the
    /// acquirer host).
    Device(String),
    /// Not on this bench: its scenarios are skipped.
    Absent,
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match text.as_str() {
            "sim" => Role::Sim,
            "none" | "" => Role::Absent,
            _ => Role::Device(text),
        })
    }
}

fn absent() -> Role {
    Role::Absent
}

/// The roles of a bench.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// Contact card reader.
    #[serde(default = "absent")]
    pub contact: Role,
    /// Contactless reader.
    #[serde(default = "absent")]
    pub contactless: Role,
    /// Magnetic stripe reader.
    #[serde(default = "absent")]
    pub magstripe: Role,
    /// Receipt printer.
    #[serde(default = "absent")]
    pub printer: Role,
    /// The acquirer host (`tcp:HOST:PORT` when real).
    #[serde(default = "absent")]
    pub host: Role,
}

/// What the terminal is at a real acquirer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terminal {
    /// Terminal master key (hex).
    pub tmk: String,
    /// Terminal id.
    pub terminal_id: String,
    /// Merchant id.
    pub merchant_id: String,
}

impl Default for Terminal {
    /// The host simulator's demo terminal.
    fn default() -> Self {
        Self {
            tmk: "70F2A84CCBC2AE8625CBB0F2C22AB923".into(),
            terminal_id: "12345678".into(),
            merchant_id: "123456789012345".into(),
        }
    }
}

/// A bench file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bench {
    /// Its name (the JUnit test suite).
    pub name: String,
    /// The roles.
    pub roles: Roles,
    /// The terminal's identity at the host.
    #[serde(default)]
    pub terminal: Terminal,
    /// CA public keys for chip cards (`[[capk]]` TOML); default: the simulators' test CA.
    #[serde(default)]
    pub capk: Option<std::path::PathBuf>,
}

/// Why a bench file was refused.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Could not read it.
    #[error("cannot read bench file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a bench.
    #[error("invalid bench file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: toml::de::Error,
    },
}

impl Bench {
    /// Reads a bench file.
    pub fn load(path: &Path) -> Result<Self, BenchError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read {
            path: shown.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| BenchError::Parse {
            path: shown,
            source,
        })
    }
}
