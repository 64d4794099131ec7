//! # pos-platform — std implementations of the terminal core's ports
//!
//! [`TcpHostLink`] implements [`pos_terminal::host::HostLink`] over TCP with the CUP 2-byte
//! length framing of `pos-io`, in plain TCP or — where the acquirer offers it — TLS (rustls,
//! ring provider) with a pinned CA ([`TlsSettings`]). [`SqliteJournal`] implements the
//! terminal's [`pos_terminal::journal::Journal`] durably (WAL, `synchronous = FULL`).
//!
//! ```no_run
//! use std::time::Duration;
//! use pos_platform::TcpHostLink;
//! use pos_terminal::host::HostLink;
//!
//! let mut link = TcpHostLink::new("acquirer.example:5000");
//! let answer = link.exchange(&[0x60, 0x00, 0x03, 0x00, 0x00 /* … */], Duration::from_secs(30), &pos_hal::CancelToken::new());
//! ```

#![warn(missing_docs)]

mod journal;

pub use journal::{JournalError, SqliteJournal};

/// `N` bytes from the operating system's random source (unpredictable numbers, PIN padding,
/// salt seeds): the terminal core is no_std and takes its randomness from here.
///
/// ```
/// let a: [u8; 16] = pos_platform::random()?;
/// let b: [u8; 16] = pos_platform::random()?;
/// assert_ne!(a, b);
/// # Ok::<(), pos_platform::NoRandomSource>(())
/// ```
pub fn random<const N: usize>() -> Result<[u8; N], NoRandomSource> {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| NoRandomSource)?;
    Ok(out)
}

/// The operating system gave no random bytes (no getrandom(2), no /dev/urandom): nothing
/// that needs them — a cryptogram's unpredictable number, an enciphered PIN — can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system has no random source")]
pub struct NoRandomSource;

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use pos_hal::{CancelToken, ErrorKind, ErrorType};
use pos_io::Deadline;
use pos_io::frame::{self, FrameError};
use pos_terminal::host::HostLink;

/// Why a TCP exchange with the host failed. After any of these the outcome of a financial
/// request is unknown: the core keeps the reversal pending.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TcpLinkError {
    /// The host name did not resolve (or not before the deadline).
    #[error("cannot resolve {address}: {source}")]
    Resolve {
        /// `host:port`.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No connection could be made.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// `host:port`.
        address: String,
        /// The last attempt's error.
        #[source]
        source: std::io::Error,
    },
    /// No complete answer before the deadline.
    #[error("host did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection broke while sending or receiving.
    #[error("host connection lost: {0}")]
    Disconnected(#[source] std::io::Error),
    /// The answer's framing is broken (empty, truncated, over the limit).
    #[error("host answer badly framed: {0}")]
    Framing(#[source] FrameError),
    /// The TLS settings are unusable (no CA certificate in the PEM, a bad server name).
    #[error("TLS settings: {0}")]
    TlsSettings(String),
    /// The TLS handshake failed: the host's certificate is not signed by the pinned CA, is for
    /// another name, or the host does not speak TLS.
    #[error("TLS handshake with {address} failed: {source}")]
    Tls {
        /// `host:port`.
        address: String,
        /// Why (rustls' error, e.g. an unknown issuer).
        #[source]
        source: std::io::Error,
    },
    /// The exchange was cancelled; the outcome of the request is unknown.
    #[error("cancelled while waiting for the host")]
    Cancelled,
    /// The request does not fit a frame.
    #[error("request of {0} bytes does not fit a 2-byte length frame")]
    RequestTooLong(usize),
}

impl pos_hal::Error for TcpLinkError {
    fn kind(&self) -> ErrorKind {
        match self {
            TcpLinkError::Resolve { .. } | TcpLinkError::Connect { .. } => ErrorKind::NoDevice,
            TcpLinkError::Timeout(_) => ErrorKind::Timeout,
            TcpLinkError::Disconnected(_) => ErrorKind::Disconnected,
            TcpLinkError::Framing(_) => ErrorKind::Protocol,
            TcpLinkError::RequestTooLong(_) => ErrorKind::InvalidInput,
            TcpLinkError::Cancelled => ErrorKind::Cancelled,
            TcpLinkError::TlsSettings(_) => ErrorKind::InvalidInput,
            TcpLinkError::Tls { .. } => ErrorKind::Protocol,
        }
    }
}

/// TLS towards the host: trust exactly one CA (pinned) and check the host's name.
///
/// ```no_run
/// use pos_platform::{TcpHostLink, TlsSettings};
/// let ca = std::fs::read("acquirer-ca.pem")?;
/// let link = TcpHostLink::new("acquirer.example:5443")
///     .with_tls(TlsSettings::pinned_ca(&ca, "acquirer.example")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TlsSettings {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("server_name", &self.server_name)
            .finish()
    }
}

impl TlsSettings {
    /// Trusts only the CA certificate(s) in `ca_pem`; `server_name` is the name (or IP address)
    /// the host's certificate must carry.
    pub fn pinned_ca(ca_pem: &[u8], server_name: &str) -> Result<Self, TcpLinkError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            let cert = cert.map_err(|e| TcpLinkError::TlsSettings(format!("CA PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| TcpLinkError::TlsSettings(format!("CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(TcpLinkError::TlsSettings(
                "no CA certificate in the PEM".into(),
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TcpLinkError::TlsSettings(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let server_name = ServerName::try_from(server_name.to_string())
            .map_err(|e| TcpLinkError::TlsSettings(format!("server name {server_name:?}: {e}")))?;
        Ok(Self {
            config: Arc::new(config),
            server_name,
        })
    }
}

/// The connection: plain TCP or TLS over it.
#[derive(Debug)]
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(t) => &t.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(t) => t.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(t) => t.flush(),
        }
    }
}

/// A TCP (or TLS) connection to the acquirer host.
#[derive(Debug)]
pub struct TcpHostLink {
    address: String,
    connect_timeout: Duration,
    keep_open: bool,
    tls: Option<TlsSettings>,
    stream: Option<Conn>,
}

impl TcpHostLink {
    /// A link to `address` (`host:port`; names are resolved at each connect). Connects lazily.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            connect_timeout: Duration::from_secs(10),
            keep_open: false,
            tls: None,
            stream: None,
        }
    }

    /// Caps the time one connect attempt may take (the exchange deadline caps it too).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Keeps the connection open between exchanges (long-connection front-ends).
    pub fn keep_open(mut self, keep: bool) -> Self {
        self.keep_open = keep;
        self
    }

    /// Speaks TLS with these settings (plain TCP without).
    pub fn with_tls(mut self, tls: TlsSettings) -> Self {
        self.tls = Some(tls);
        self
    }

    /// True while a connection is open.
    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    /// Resolves the address on a helper thread, so that a hanging resolver cannot outlive the
    /// deadline (`getaddrinfo` has no timeout of its own).
    fn resolve(&self, deadline: Deadline) -> Result<Vec<SocketAddr>, TcpLinkError> {
        let (tx, rx) = mpsc::channel();
        let address = self.address.clone();
        std::thread::spawn(move || {
            let _ = tx.send(address.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
        });
        let resolve_err = |source| TcpLinkError::Resolve {
            address: self.address.clone(),
            source,
        };
        match rx.recv_timeout(deadline.remaining()) {
            Ok(Ok(addrs)) => Ok(addrs),
            Ok(Err(e)) => Err(resolve_err(e)),
            Err(_) => Err(resolve_err(std::io::Error::from(IoKind::TimedOut))),
        }
    }

    /// Completes the TLS handshake within the deadline.
    fn handshake(
        &self,
        tcp: TcpStream,
        deadline: Deadline,
        tls: &TlsSettings,
    ) -> Result<Conn, TcpLinkError> {
        let tls_err = |source| TcpLinkError::Tls {
            address: self.address.clone(),
            source,
        };
        let mut conn = ClientConnection::new(tls.config.clone(), tls.server_name.clone())
            .map_err(|e| tls_err(std::io::Error::other(e)))?;
        let mut tcp = tcp;
        while conn.is_handshaking() {
            let left = deadline
                .remaining_nonzero()
                .ok_or(TcpLinkError::Timeout(self.connect_timeout))?;
            tcp.set_read_timeout(Some(left)).map_err(tls_err)?;
            tcp.set_write_timeout(Some(left)).map_err(tls_err)?;
            conn.complete_io(&mut tcp).map_err(|e| match e.kind() {
                IoKind::WouldBlock | IoKind::TimedOut => {
                    TcpLinkError::Timeout(self.connect_timeout)
                }
                _ => tls_err(e),
            })?;
        }
        Ok(Conn::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }

    fn connect(&mut self, deadline: Deadline) -> Result<&mut Conn, TcpLinkError> {
        if self.stream.is_none() {
            let addrs = self.resolve(deadline)?;
            let mut last = std::io::Error::from(IoKind::AddrNotAvailable);
            for addr in addrs {
                let left = deadline
                    .remaining_nonzero()
                    .ok_or(TcpLinkError::Timeout(self.connect_timeout))?;
                match TcpStream::connect_timeout(&addr, left.min(self.connect_timeout)) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        let conn = match &self.tls {
                            Some(tls) => self.handshake(s, deadline, tls)?,
                            None => Conn::Plain(s),
                        };
                        self.stream = Some(conn);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            if self.stream.is_none() {
                return Err(TcpLinkError::Connect {
                    address: self.address.clone(),
                    source: last,
                });
            }
        }
        self.stream
            .as_mut()
            .ok_or_else(|| TcpLinkError::Disconnected(IoKind::NotConnected.into()))
    }

    fn exchange_once(
        &mut self,
        request: &[u8],
        deadline: Deadline,
        timeout: Duration,
        cancel: &CancelToken,
        is_answer: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>, TcpLinkError> {
        let framed =
            frame::encode(request).map_err(|_| TcpLinkError::RequestTooLong(request.len()))?;
        // On a kept-open connection, bytes already waiting belong to no request of ours (a
        // late answer, a host's idle message): drop them, or they would be taken as the answer.
        // A host that closed the idle connection meanwhile gets one fresh connection.
        if let Err(e) = drain(self.connect(deadline)?) {
            tracing::debug!(address = %self.address, error = %e, "idle connection gone; reconnecting");
            self.stream = None;
        }
        let address = self.address.clone();
        let stream = self.connect(deadline)?;
        let left = deadline
            .remaining_nonzero()
            .ok_or(TcpLinkError::Timeout(timeout))?;
        stream
            .tcp()
            .set_write_timeout(Some(left))
            .map_err(TcpLinkError::Disconnected)?;
        stream.write_all(&framed).map_err(|e| match e.kind() {
            IoKind::WouldBlock | IoKind::TimedOut => TcpLinkError::Timeout(timeout),
            _ => TcpLinkError::Disconnected(e),
        })?;
        let mut pending: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            // Every complete frame: the answer, or something that is not (dropped).
            while let Some(len) = pending
                .get(..2)
                .map(|p| usize::from(u16::from_be_bytes([p[0], p[1]])))
            {
                if len == 0 {
                    return Err(TcpLinkError::Framing(FrameError::Truncated {
                        got: 2,
                        expected: 3,
                    }));
                }
                if pending.len() < 2 + len {
                    break;
                }
                let frame: Vec<u8> = pending.drain(..2 + len).skip(2).collect();
                if is_answer(&frame) {
                    return Ok(frame);
                }
                tracing::warn!(address = %address, bytes = frame.len(), "dropped a host frame that does not answer this request");
            }
            if cancel.is_cancelled() {
                return Err(TcpLinkError::Cancelled);
            }
            let slice = deadline
                .remaining_nonzero()
                .ok_or(TcpLinkError::Timeout(timeout))?
                .min(Duration::from_millis(50));
            stream
                .tcp()
                .set_read_timeout(Some(slice))
                .map_err(TcpLinkError::Disconnected)?;
            match stream.read(&mut chunk) {
                Ok(0) => return Err(TcpLinkError::Disconnected(IoKind::UnexpectedEof.into())),
                Ok(n) => pending.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        IoKind::WouldBlock | IoKind::TimedOut | IoKind::Interrupted
                    ) => {}
                Err(e) => return Err(TcpLinkError::Disconnected(e)),
            }
        }
    }
}

/// Reads and discards whatever is already waiting, without blocking.
fn drain(stream: &mut Conn) -> std::io::Result<()> {
    stream.tcp().set_nonblocking(true)?;
    let mut buf = [0u8; 512];
    let result = loop {
        match stream.read(&mut buf) {
            Ok(0) => break Err(IoKind::UnexpectedEof.into()),
            Ok(n) => tracing::warn!(bytes = n, "dropped unsolicited bytes from the host"),
            Err(e) if e.kind() == IoKind::WouldBlock => break Ok(()),
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    stream.tcp().set_nonblocking(false)?;
    result
}

impl ErrorType for TcpHostLink {
    type Error = TcpLinkError;
}

impl HostLink for TcpHostLink {
    fn exchange_matching(
        &mut self,
        request: &[u8],
        timeout: Duration,
        cancel: &CancelToken,
        is_answer: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>, TcpLinkError> {
        let deadline = Deadline::after(timeout);
        let result = self.exchange_once(request, deadline, timeout, cancel, is_answer);
        if result.is_err() || !self.keep_open {
            // After a failure the stream may still deliver a late answer: never read it.
            if let Some(s) = self.stream.take() {
                let _ = s.tcp().shutdown(std::net::Shutdown::Both);
            }
        }
        if let Err(e) = &result {
            tracing::warn!(address = %self.address, error = %e, "host exchange failed");
        }
        result
    }
}
