//! The printer: status before and after every job, jobs that are either printed or reported
//! as not printed.

use std::time::Duration;

use pos_hal::{
    CancelToken, Charsets, Device, DeviceInfo, DeviceKind, ErrorType, HealthLevel, HealthReport,
    HealthStatus, JobResult, PaperState, PrinterCaps, PrinterStatus, Receipt, ReceiptLine,
    ReceiptPrinter, TextStyle,
};
use pos_io::Deadline;

use crate::encode::{DRAWER_PULSE, Profile, encode_receipt};
use crate::status::{DLE_EOT, Inbound, InboundDecoder, asb_fault, decode};
use crate::transport::{FileTransport, Transport};
use crate::{EscposError, PrinterAddress};

/// `GS r 1`: paper sensor status, answered only once the printer has processed everything
/// before it — so its answer marks the end of a job.
const GS_R_1: [u8; 3] = [0x1D, 0x72, 0x01];

/// An ESC/POS printer on some transport.
#[derive(Debug)]
pub struct EscposPrinter<T: Transport = Box<dyn Transport>> {
    transport: T,
    profile: Profile,
    /// Time allowed to hand a job to the printer.
    pub write_timeout: Duration,
    /// Time allowed for one status answer.
    pub status_timeout: Duration,
    /// Time allowed for the printer to reach the end of a job.
    pub job_timeout: Duration,
    /// A `GS r` answer arrived (outside any ASB block), possibly while waiting for status.
    job_end_seen: bool,
    /// What the last ASB block said is stopping the printer.
    asb_stop: Option<EscposError>,
    /// Splits what the printer sends into answers and ASB blocks.
    inbound: InboundDecoder,
    /// A query timed out: late answers may still come and must not be taken for new ones.
    resync: bool,
}

impl EscposPrinter<Box<dyn Transport>> {
    /// Opens a printer address: `tcp:HOST:PORT`, `serial:PATH[:BAUD[:rtscts]]`,
    /// `usb:[VID:PID[:SERIAL]]` (empty: first printer-class device) or `file:PATH`.
    pub fn open(address: &str, profile: Profile) -> Result<Self, EscposError> {
        Self::open_address(&address.parse()?, profile)
    }

    /// Opens a parsed address.
    pub fn open_address(address: &PrinterAddress, profile: Profile) -> Result<Self, EscposError> {
        let open_err = |source| EscposError::Open {
            target: address.to_string(),
            source,
        };
        #[allow(
            unused_variables,
            reason = "some arms are compiled out by transport features"
        )]
        let not_built = |feature| EscposError::TransportNotBuilt(address.to_string(), feature);
        let transport: Box<dyn Transport> = match address {
            #[cfg(feature = "tcp")]
            PrinterAddress::Tcp { host, port } => {
                let mut t = crate::transport::TcpTransport::new(format!("{host}:{port}"));
                t.connect().map_err(open_err)?;
                Box::new(t)
            }
            #[cfg(not(feature = "tcp"))]
            PrinterAddress::Tcp { .. } => return Err(not_built("tcp")),
            #[cfg(feature = "serial")]
            PrinterAddress::Serial { path, baud, rtscts } => {
                let mut t = crate::transport::SerialTransport::new(path.clone(), *baud, *rtscts);
                t.connect().map_err(open_err)?;
                Box::new(t)
            }
            #[cfg(not(feature = "serial"))]
            PrinterAddress::Serial { .. } => return Err(not_built("serial")),
            #[cfg(feature = "usb")]
            PrinterAddress::Usb { ids, serial } => Box::new(
                crate::transport::UsbTransport::open_serial(*ids, serial.as_deref())?,
            ),
            #[cfg(not(feature = "usb"))]
            PrinterAddress::Usb { .. } => return Err(not_built("usb")),
            PrinterAddress::File { path } => {
                let mut t = FileTransport::new(path.clone());
                t.connect().map_err(open_err)?;
                Box::new(t)
            }
        };
        Ok(Self::new(transport, profile))
    }
}

impl<T: Transport> EscposPrinter<T> {
    /// A printer on `transport`.
    pub fn new(transport: T, profile: Profile) -> Self {
        Self {
            transport,
            profile,
            write_timeout: Duration::from_secs(10),
            status_timeout: Duration::from_millis(1500),
            job_timeout: Duration::from_secs(15),
            job_end_seen: false,
            asb_stop: None,
            inbound: InboundDecoder::default(),
            resync: false,
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), EscposError> {
        self.transport
            .write_all(bytes, self.write_timeout)
            .map_err(|(bytes_sent, source)| {
                // A broken or stuck connection is closed: the next call reconnects.
                self.transport.reset();
                if source.kind() == std::io::ErrorKind::TimedOut {
                    EscposError::Timeout(self.write_timeout)
                } else {
                    EscposError::Disconnected { bytes_sent, source }
                }
            })
    }

    /// Reads until a `DLE EOT` answer arrives (`Some`), or only until a `GS r` answer was seen
    /// (`want_status == false`), or time is up (`None`). ASB blocks on the way are decoded: one
    /// that reports a stop is kept in `asb_stop`; their bytes are never taken for answers.
    fn await_inbound(
        &mut self,
        timeout: Duration,
        cancel: &CancelToken,
        want_status: bool,
    ) -> Result<Option<u8>, EscposError> {
        let deadline = Deadline::after(timeout);
        let mut buf = [0u8; 16];
        while !deadline.expired() {
            if cancel.is_cancelled() {
                // An answer may still come: never take it for the next query's.
                self.resync = true;
                return Err(EscposError::Cancelled);
            }
            let n = self
                .transport
                .read(&mut buf, deadline.slice(Duration::from_millis(100)))
                .map_err(|source| {
                    self.transport.reset();
                    self.inbound.reset();
                    EscposError::Disconnected {
                        bytes_sent: 0,
                        source,
                    }
                })?;
            let mut status = None;
            for &b in &buf[..n] {
                match self.inbound.push(b) {
                    Some(Inbound::Status(s)) if status.is_none() => status = Some(s),
                    Some(Inbound::PaperSensor(_)) => self.job_end_seen = true,
                    Some(Inbound::Asb(block)) => {
                        if let Some(stop) = asb_fault(block) {
                            self.asb_stop = Some(stop);
                        }
                    }
                    _ => {}
                }
            }
            if want_status && status.is_some() {
                return Ok(status);
            }
            if !want_status && self.job_end_seen {
                return Ok(None);
            }
        }
        Ok(None)
    }

    fn query(&mut self, cmd: &[u8; 3], cancel: &CancelToken) -> Result<u8, EscposError> {
        self.send(cmd)?;
        let timeout = self.status_timeout;
        match self.await_inbound(timeout, cancel, true)? {
            Some(b) => Ok(b),
            None => {
                // The answer may still come: close the connection (TCP, USB) and swallow late
                // bytes before the next query (serial), so that it is never taken as current.
                self.transport.reset();
                self.resync = true;
                Err(EscposError::Timeout(timeout))
            }
        }
    }

    /// Discards input until the line has been quiet for `quiet`.
    /// Discards input until the line has been quiet for `quiet`, for at most two seconds: a
    /// printer that keeps sending (ASB storm, a stuck byte) gets its connection closed instead,
    /// so that the next query starts on a fresh line.
    fn resynchronise(&mut self, quiet: Duration) {
        let limit = Deadline::after(Duration::from_secs(2));
        let mut buf = [0u8; 64];
        while matches!(self.transport.read(&mut buf, quiet), Ok(n) if n > 0) {
            if limit.expired() {
                tracing::warn!(printer = %self.transport.describe(), "printer keeps sending; reconnecting");
                self.transport.reset();
                break;
            }
        }
        self.resync = false;
    }

    fn read_status(&mut self, cancel: &CancelToken) -> Result<PrinterStatus, EscposError> {
        if !self.transport.can_read() {
            return Err(EscposError::NoStatus);
        }
        if self.resync {
            self.resynchronise(Duration::from_millis(200));
        } else {
            self.transport.drain(Duration::from_millis(500));
            self.inbound.reset();
        }
        let printer = self.query(&DLE_EOT[0], cancel)?;
        let offline = self.query(&DLE_EOT[1], cancel)?;
        let paper = self.query(&DLE_EOT[2], cancel)?;
        decode(printer, offline, paper)
    }

    fn refuse(status: &PrinterStatus) -> Result<(), EscposError> {
        if status.paper == PaperState::Out {
            Err(EscposError::PaperOut)
        } else if status.cover_open {
            Err(EscposError::CoverOpen)
        } else if !status.online {
            Err(EscposError::Offline)
        } else {
            Ok(())
        }
    }

    /// After the job: wait for `GS r 1`'s answer (the printer reached the end); meanwhile
    /// look at paper and cover so that a stop is explained instead of waited out.
    fn await_job_end(&mut self, cancel: &CancelToken) -> Result<(), EscposError> {
        // Whatever arrived while the job was written (ASB blocks, stray bytes) answers nothing
        // we are about to ask: drop it, so only bytes after our GS r 1 can end the job.
        self.transport.drain(Duration::from_millis(500));
        self.inbound.reset();
        self.job_end_seen = false;
        self.asb_stop = None;
        self.send(&GS_R_1)?;
        let deadline = Deadline::after(self.job_timeout);
        loop {
            let _ = self.await_inbound(Duration::from_millis(250), cancel, false)?;
            if let Some(stop) = self.asb_stop.take() {
                return Err(stop);
            }
            if self.job_end_seen {
                return Ok(());
            }
            let paper = self.query(&DLE_EOT[2], cancel)?;
            let offline = self.query(&DLE_EOT[1], cancel)?;
            let printer = self.query(&DLE_EOT[0], cancel)?;
            Self::refuse(&decode(printer, offline, paper)?)?;
            if self.job_end_seen {
                return Ok(());
            }
            if deadline.expired() {
                return Err(EscposError::Timeout(self.job_timeout));
            }
        }
    }

    fn self_test_page(&self) -> Vec<ReceiptLine<'static>> {
        vec![
            ReceiptLine::Text {
                text: "打印机自检 PRINTER SELF-TEST",
                style: TextStyle::NORMAL.centered().bold(),
            },
            ReceiptLine::Separator('-'),
            ReceiptLine::Columns {
                left: "纸宽 PAPER",
                right: if self.profile.columns == 32 {
                    "58 mm"
                } else {
                    "80 mm"
                },
                style: TextStyle::NORMAL,
            },
            ReceiptLine::Columns {
                left: "中文 CHINESE",
                right: "银联 ￥0.01",
                style: TextStyle::NORMAL,
            },
            ReceiptLine::Qr {
                data: "POS SELF-TEST",
                module_size: 4,
            },
            ReceiptLine::Feed(2),
            ReceiptLine::Cut(pos_hal::CutKind::Partial),
        ]
    }
}

impl<T: Transport> ErrorType for EscposPrinter<T> {
    type Error = EscposError;
}

impl<T: Transport> ReceiptPrinter for EscposPrinter<T> {
    fn caps(&self) -> PrinterCaps {
        let caps = if self.profile.columns == 32 {
            PrinterCaps::paper_58mm()
        } else {
            PrinterCaps::default()
        };
        caps.with_features(true, true, self.transport.can_read())
            .with_charsets(Charsets::ASCII.union(Charsets::GB18030))
    }

    fn status(&mut self, cancel: &CancelToken) -> Result<PrinterStatus, EscposError> {
        self.read_status(cancel)
    }

    /// Checks status, sends the job, waits until the printer reached its end and checks again.
    /// Any error means the job was not (completely) printed.
    fn print(
        &mut self,
        receipt: &Receipt<'_>,
        cancel: &CancelToken,
    ) -> Result<JobResult, EscposError> {
        let job = encode_receipt(receipt, self.profile)?;
        if cancel.is_cancelled() {
            return Err(EscposError::Cancelled);
        }
        if !self.transport.can_read() {
            self.send(&job)?;
            return Ok(JobResult::new(job.len(), None));
        }
        let before = self.read_status(cancel)?;
        Self::refuse(&before)?;
        if cancel.is_cancelled() {
            return Err(EscposError::Cancelled);
        }
        self.send(&job)?;
        self.await_job_end(cancel)?;
        // The end-of-job answer is one byte and cannot be told from a stray one for sure: the
        // job counts as printed only if the printer is still ready after it.
        let after = self.read_status(cancel)?;
        Self::refuse(&after)?;
        tracing::debug!(printer = %self.transport.describe(), bytes = job.len(), ?after, "job printed");
        Ok(JobResult::new(job.len(), Some(after)))
    }

    fn open_drawer(&mut self) -> Result<(), EscposError> {
        self.send(&DRAWER_PULSE)
    }
}

impl<T: Transport> Device for EscposPrinter<T> {
    fn info(&self) -> DeviceInfo {
        let address = self.transport.describe();
        DeviceInfo::new(
            DeviceKind::Printer,
            "escpos",
            &format!("ESC/POS printer {address}"),
            &format!("escpos:{address}"),
        )
    }

    /// `Internal`: reads the status. `External`: prints the self-test page. A printer that
    /// answers with a fault, or does not answer at all, is a `Failed` report, not an `Err`.
    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, EscposError> {
        let report = |status, detail: &str| HealthReport::new(level, status, detail);
        let cancel = CancelToken::new();
        let status = match self.read_status(&cancel) {
            Ok(s) => s,
            Err(EscposError::NoStatus) => {
                return Ok(report(
                    HealthStatus::Degraded,
                    "printer does not report status on this connection",
                ));
            }
            Err(e) => return Ok(report(HealthStatus::Failed, &e.to_string())),
        };
        if let Err(e) = Self::refuse(&status) {
            return Ok(report(HealthStatus::Failed, &e.to_string()));
        }
        if level != HealthLevel::Internal {
            let page = self.self_test_page();
            if let Err(e) = self.print(&Receipt::new(&page), &cancel) {
                return Ok(report(HealthStatus::Failed, &e.to_string()));
            }
        }
        if status.paper == PaperState::NearEnd {
            return Ok(report(HealthStatus::Degraded, "paper near end"));
        }
        Ok(report(HealthStatus::Ok, "printer ready"))
    }
}

/// Printers this machine can see: USB printer-class devices and `/dev/usb/lp*` nodes.
/// (Network and serial printers cannot be discovered safely: name them with a selector.)
pub fn discover() -> Vec<DeviceInfo> {
    let mut found = Vec::new();
    let info = |name: String, address: String| {
        DeviceInfo::new(
            DeviceKind::Printer,
            "escpos",
            &name,
            &format!("escpos:{address}"),
        )
    };
    if let Ok(entries) = std::fs::read_dir("/dev/usb") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("lp") {
                found.push(info(
                    format!("usblp {name}"),
                    format!("file:/dev/usb/{name}"),
                ));
            }
        }
    }
    #[cfg(feature = "usb")]
    if let Ok(devices) = pos_io::usb::devices() {
        for d in devices.into_iter().filter(|d| d.classes.contains(&7)) {
            let address = d.describe();
            found.push(info(format!("USB printer {address}"), address));
        }
    }
    found
}
