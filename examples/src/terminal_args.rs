//! The command-line options every POS front-end shares (`pos`, `pos-tui`): the devices by
//! role, the terminal's identity and keys, the EMV configuration — and the [`Settings`] they
//! make.

use std::path::PathBuf;

use crate::headless::{MacChoice, PosError, Settings};

/// Who the terminal is and what it is connected to; flatten it into a front-end's options.
#[derive(clap::Args, Debug, Clone)]
pub struct TerminalArgs {
    /// The devices by role (`host`, `printer`, `reader`, `contactless`, `magstripe`,
    /// `scanner`, `journal`), as in `examples/devices.toml`; flags win over the file.
    #[arg(long, value_name = "FILE")]
    pub devices: Option<PathBuf>,
    /// Acquirer host `host:port`.
    #[arg(long)]
    pub host: Option<String>,
    /// The journal file.
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Receipt printer selector (without: receipts are only shown).
    #[arg(long)]
    pub printer: Option<String>,
    /// Contact card reader selector.
    #[arg(long)]
    pub reader: Option<String>,
    /// Contactless reader selector (`pcsc:Virtual PCD 00 01`, `pn532:/dev/ttyUSB0`).
    #[arg(long)]
    pub contactless_reader: Option<String>,
    /// Magnetic stripe reader selector: a swipe is waited for on it.
    #[arg(long)]
    pub magstripe: Option<String>,
    /// Code scanner selector (scan-code payment): a scan is waited for on it.
    #[arg(long)]
    pub scanner: Option<String>,
    /// CA public keys for chip cards (`[[capk]]` TOML); default: the simulators' test CA.
    #[arg(long)]
    pub capk: Option<PathBuf>,
    /// The EMV terminal configuration (TOML, as `examples/emv-terminal.toml`): AIDs with
    /// their TACs and limits, terminal data, the electronic cash and contactless limits.
    #[arg(long, value_name = "FILE")]
    pub emv_config: Option<PathBuf>,
    /// Terminal master key (hex); the host simulator's demo key by default.
    #[arg(long, default_value = "70F2A84CCBC2AE8625CBB0F2C22AB923")]
    pub tmk: String,
    /// The acquirer's MAC algorithm; `sm4` also means SM4 keys (国密: 16-byte TMK, SM4 PIN
    /// blocks in the SM dialect's field 52).
    #[arg(long, value_enum, default_value = "cup-ecb")]
    pub mac: MacChoice,
    /// Terminal id (41).
    #[arg(long, default_value = "12345678")]
    pub terminal_id: String,
    /// Merchant id (42).
    #[arg(long, default_value = "123456789012345")]
    pub merchant_id: String,
}

impl TerminalArgs {
    /// The settings: the device file's roles with the flags over them, host and journal
    /// required.
    pub fn settings(&self) -> Result<Settings, PosError> {
        let roles = crate::device_file::DeviceFile::load_or_default(self.devices.as_deref())
            .map_err(|e| PosError::Setup(e.to_string()))?
            .overridden_by(crate::device_file::DeviceFile {
                host: self.host.clone(),
                printer: self.printer.clone(),
                reader: self.reader.clone(),
                contactless: self.contactless_reader.clone(),
                magstripe: self.magstripe.clone(),
                scanner: self.scanner.clone(),
                journal: self.journal.clone(),
            });
        let mut settings = Settings::demo(
            roles.require_host().map_err(PosError::Setup)?,
            roles.require_journal().map_err(PosError::Setup)?,
        );
        settings.printer = roles.printer.clone();
        settings.reader = roles.reader.clone();
        settings.contactless = roles.contactless.clone();
        settings.magstripe = roles.magstripe.clone();
        settings.scanner = roles.scanner.clone();
        settings.tmk = self.tmk.clone();
        settings.terminal_id = self.terminal_id.clone();
        settings.merchant_id = self.merchant_id.clone();
        settings.capk = self.capk.clone();
        settings.emv_config = self.emv_config.clone();
        settings.mac = self.mac.algorithm();
        Ok(settings)
    }
}
