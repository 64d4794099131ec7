//! The POS's devices as a file: one `pos-devices` selector per role, so the same `pos` and
//! `pos-tui` binaries drive the simulators or a real bench without code changes.
//!
//! ```toml
//! host = "127.0.0.1:5000"                     # the acquirer, host:port
//! printer = "escpos:tcp:192.168.1.50:9100"    # receipt printer
//! reader = "pcsc:~ACR39"                      # contact (chip) reader
//! contactless = "pn532:/dev/ttyUSB0"          # contactless reader
//! magstripe = "msr:evdev:0801:0001"           # magnetic stripe reader
//! scanner = "scanner:serial:/dev/ttyACM0"     # code scanner (scan-code payment)
//! journal = "pos.sqlite"                      # the transaction journal
//! ```
//! Every key is optional; a command-line flag wins over the file. `examples/devices.toml`
//! is a commented example.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// What the file names, role by role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceFile {
    /// Acquirer host `host:port`.
    pub host: Option<String>,
    /// Receipt printer selector.
    pub printer: Option<String>,
    /// Contact card reader selector.
    pub reader: Option<String>,
    /// Contactless reader selector.
    pub contactless: Option<String>,
    /// Magnetic stripe reader selector.
    pub magstripe: Option<String>,
    /// Code scanner selector (scan-code payment).
    pub scanner: Option<String>,
    /// The journal file.
    pub journal: Option<PathBuf>,
}

/// Why the file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeviceFileError {
    /// Not readable.
    #[error("cannot read the device file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not TOML of the expected shape.
    #[error("device file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with its line.
        source: toml::de::Error,
    },
    /// A selector no driver takes.
    #[error("device file {path}: {role} = {selector:?}: {reason}")]
    Selector {
        /// The file.
        path: String,
        /// The role (`printer`…).
        role: &'static str,
        /// The selector.
        selector: String,
        /// The registry's reason.
        reason: String,
    },
}

impl DeviceFile {
    /// Reads and checks `path`: TOML, known keys only, every selector parsed by the registry.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("devfile-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("devices.toml");
    /// std::fs::write(&path, "host = \"127.0.0.1:5000\"\nprinter = \"escpos:tcp:127.0.0.1:9100\"\n")?;
    /// let file = pos_examples::device_file::DeviceFile::load(&path)?;
    /// assert_eq!(file.printer.as_deref(), Some("escpos:tcp:127.0.0.1:9100"));
    /// std::fs::write(&path, "printer = \"laser:lpt1\"\n")?;
    /// assert!(pos_examples::device_file::DeviceFile::load(&path).is_err());
    /// # std::fs::remove_dir_all(dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: &Path) -> Result<Self, DeviceFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DeviceFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: DeviceFile = toml::from_str(&text).map_err(|source| DeviceFileError::Parse {
            path: shown.clone(),
            source,
        })?;
        for (role, selector) in [
            ("printer", &file.printer),
            ("reader", &file.reader),
            ("contactless", &file.contactless),
            ("magstripe", &file.magstripe),
            ("scanner", &file.scanner),
        ] {
            if let Some(selector) = selector {
                pos_devices::parse(selector).map_err(|e| DeviceFileError::Selector {
                    path: shown.clone(),
                    role,
                    selector: selector.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
        Ok(file)
    }

    /// These roles, each replaced by `flags`' when the flag is given (command line wins).
    pub fn overridden_by(self, flags: DeviceFile) -> DeviceFile {
        DeviceFile {
            host: flags.host.or(self.host),
            printer: flags.printer.or(self.printer),
            reader: flags.reader.or(self.reader),
            contactless: flags.contactless.or(self.contactless),
            magstripe: flags.magstripe.or(self.magstripe),
            scanner: flags.scanner.or(self.scanner),
            journal: flags.journal.or(self.journal),
        }
    }

    /// The host, or the error that says where to give it.
    pub fn require_host(&self) -> Result<String, String> {
        self.host
            .clone()
            .ok_or_else(|| "no host: give --host HOST:PORT or `host` in --devices FILE".into())
    }

    /// The journal, or the error that says where to give it.
    pub fn require_journal(&self) -> Result<PathBuf, String> {
        self.journal
            .clone()
            .ok_or_else(|| "no journal: give --journal FILE or `journal` in --devices FILE".into())
    }

    /// Reads `path` when given; an empty file otherwise.
    pub fn load_or_default(path: Option<&Path>) -> Result<Self, DeviceFileError> {
        path.map_or_else(|| Ok(Self::default()), Self::load)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<DeviceFile, DeviceFileError> {
        let dir = std::env::temp_dir().join(format!(
            "devfile-{}-{:x}",
            std::process::id(),
            text.len() * 31 + text.bytes().map(usize::from).sum::<usize>()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("devices.toml");
        std::fs::write(&path, text).expect("write");
        let result = DeviceFile::load(&path);
        let _ = std::fs::remove_dir_all(dir);
        result
    }

    #[test]
    fn every_role_is_read_and_checked() {
        let file = load(
            "host = \"h:1\"\nprinter = \"escpos:tcp:p:9100\"\nreader = \"pcsc:~ACR\"\n\
             contactless = \"nfc:pn532_uart:/dev/ttyUSB0\"\nmagstripe = \"msr:evdev:0801:0001\"\n\
             journal = \"j.sqlite\"\n",
        )
        .expect("valid");
        assert_eq!(file.host.as_deref(), Some("h:1"));
        assert_eq!(file.magstripe.as_deref(), Some("msr:evdev:0801:0001"));
        assert_eq!(file.journal, Some(PathBuf::from("j.sqlite")));
    }

    #[test]
    fn a_flag_wins_over_the_file_and_the_file_fills_the_rest() {
        let file = DeviceFile {
            host: Some("file:1".into()),
            printer: Some("escpos:tcp:file:9100".into()),
            ..DeviceFile::default()
        };
        let flags = DeviceFile {
            printer: Some("escpos:tcp:flag:9100".into()),
            ..DeviceFile::default()
        };
        let merged = file.overridden_by(flags);
        assert_eq!(merged.host.as_deref(), Some("file:1"));
        assert_eq!(merged.printer.as_deref(), Some("escpos:tcp:flag:9100"));
        assert!(merged.require_journal().is_err());
    }

    #[test]
    fn unknown_keys_and_bad_selectors_are_refused_with_the_role() {
        let err = load("printr = \"escpos:tcp:p:9100\"\n").expect_err("typo");
        assert!(err.to_string().contains("printr"), "{err}");
        let err = load("magstripe = \"msr:evdev:801:1\"\n").expect_err("bad selector");
        assert!(err.to_string().contains("magstripe"), "{err}");
        assert!(matches!(
            DeviceFile::load(Path::new("/nonexistent/devices.toml")),
            Err(DeviceFileError::Read { .. })
        ));
    }
}
