//! Contactless APDU round trips per second against the PN532 emulator on a pty, in one run:
//! raw libnfc (`nfc1` directly, the baseline), pos-nfc over the same libnfc, pos-pn532 (the
//! no_std driver over pos-io serial), and the same SELECT PPSE through pcscd/vpcd (pos-pcsc)
//! for comparison when pcscd runs (`cargo xtask bench -p pos-nfc`).
//!
//! Criterion measures single exchanges; with `--bench`, 5 × 400 exchanges per path,
//! interleaved so that drift hits every path alike, give the rates and the ratios printed at
//! the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use nfc1::{BaudRate, Modulation, ModulationType, Timeout};
use pos_hal::{Apdu, CancelToken, CardChannel, IccReader, PiccReader, PollOutcome, TargetTypes};
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::pn532::{Pn532Emulator, Presented};

const PPSE: [u8; 20] = [
    0x00, 0xA4, 0x04, 0x00, 0x0E, b'2', b'P', b'A', b'Y', b'.', b'S', b'Y', b'S', b'.', b'D', b'D',
    b'F', b'0', b'1', 0x00,
];

fn card() -> Presented {
    let profile = CardProfile::builtin("unionpay-debit").expect("profile");
    Presented::iso_dep_a(EmvCard::new(profile), &[1, 2, 3, 4])
}

fn emulator() -> Pn532Emulator {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(card());
    e
}

/// libnfc without our driver: the baseline pos-nfc is measured against.
struct RawLibnfc {
    device: nfc1::Device,
    _context: nfc1::Context,
}

impl RawLibnfc {
    fn open(path: &str) -> Self {
        let mut context = nfc1::Context::new().expect("libnfc");
        let mut device = context
            .open_with_connstring(&format!("pn532_uart:{path}"))
            .expect("open");
        device.initiator_init().expect("init");
        device
            .initiator_select_passive_target(&Modulation {
                modulation_type: ModulationType::Iso14443a,
                baud_rate: BaudRate::Baud106,
            })
            .expect("select");
        Self {
            device,
            _context: context,
        }
    }

    fn exchange(&mut self) -> usize {
        self.device
            .initiator_transceive_bytes(&PPSE, 263, Timeout::Duration(Duration::from_secs(1)))
            .map(|a| a.len())
            .unwrap_or(0)
    }
}

fn exchange<C: CardChannel + ?Sized>(channel: &mut C, apdu: &Apdu<'_>, rx: &mut [u8]) -> usize {
    channel
        .transmit(apdu, rx)
        .map(|r| r.data.len())
        .unwrap_or(0)
}

fn activated<R: PiccReader>(mut reader: R) -> R {
    let found = reader
        .poll(TargetTypes::A, Duration::from_secs(2), &CancelToken::new())
        .expect("poll");
    assert!(matches!(found, PollOutcome::Card(_)), "{found:?}");
    reader
}

/// The vpcd path, when pcscd runs with the simulator's readers.
fn vpcd() -> Option<(pos_pcsc::PcscReader, pos_sim::vpcd::VirtualCard)> {
    use pos_sim::slots;
    if !slots::stack_available() {
        eprintln!("SKIPPED vpcd comparison: pcscd with vpcd readers not running");
        return None;
    }
    let profile = CardProfile::builtin("unionpay-debit")?;
    let card = slots::insert(0, EmvCard::new(profile), Default::default()).ok()?;
    let mut reader =
        pos_pcsc::PcscReader::open(&pos_pcsc::ReaderSelector::Exact(slots::READERS[0].into()))
            .ok()?;
    reader.power_on().ok()?;
    Some((reader, card))
}

fn rate(total: Duration, n: u32) -> f64 {
    f64::from(n) / total.as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let apdu = Apdu::parse(&PPSE).expect("PPSE");
    let mut rx = vec![0u8; 512];
    let (e_raw, e_nfc, e_pn532) = (emulator(), emulator(), emulator());
    let mut raw = RawLibnfc::open(e_raw.path());
    let mut nfc = activated(
        pos_nfc::NfcReader::open(&format!("pn532_uart:{}", e_nfc.path())).expect("pos-nfc"),
    );
    let mut pn532 = activated(pos_pn532::open_serial(e_pn532.path(), 115_200).expect("pos-pn532"));
    let mut vpcd = vpcd();
    assert!(raw.exchange() > 2, "raw libnfc exchange works");
    assert!(
        exchange(&mut nfc, &apdu, &mut rx) > 0,
        "pos-nfc exchange works"
    );
    assert!(
        exchange(&mut pn532, &apdu, &mut rx) > 0,
        "pos-pn532 exchange works"
    );

    let mut group = c.benchmark_group("select_ppse");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    group.bench_function("raw_libnfc", |b| b.iter(|| black_box(raw.exchange())));
    group.bench_function("pos_nfc", |b| {
        b.iter(|| black_box(exchange(&mut nfc, &apdu, &mut rx)))
    });
    group.bench_function("pos_pn532", |b| {
        b.iter(|| black_box(exchange(&mut pn532, &apdu, &mut rx)))
    });
    if let Some((reader, _)) = vpcd.as_mut() {
        group.bench_function("pos_pcsc_vpcd", |b| {
            b.iter(|| black_box(exchange(reader, &apdu, &mut rx)))
        });
    }
    group.finish();

    // `cargo bench` passes --bench; listing or test runs do not.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    const BLOCK: u32 = 400;
    let mut totals = [Duration::ZERO; 4];
    for _ in 0..5 {
        let t = Instant::now();
        (0..BLOCK).for_each(|_| {
            black_box(raw.exchange());
        });
        totals[0] += t.elapsed();
        let t = Instant::now();
        (0..BLOCK).for_each(|_| {
            black_box(exchange(&mut nfc, &apdu, &mut rx));
        });
        totals[1] += t.elapsed();
        let t = Instant::now();
        (0..BLOCK).for_each(|_| {
            black_box(exchange(&mut pn532, &apdu, &mut rx));
        });
        totals[2] += t.elapsed();
        if let Some((reader, _)) = vpcd.as_mut() {
            let t = Instant::now();
            (0..BLOCK).for_each(|_| {
                black_box(exchange(reader, &apdu, &mut rx));
            });
            totals[3] += t.elapsed();
        }
    }
    let n = 5 * BLOCK;
    println!(
        "{n} SELECT PPSE each: raw libnfc {:.0}/s, pos-nfc {:.0}/s (time ratio to raw {:.3}), pos-pn532 {:.0}/s (time ratio to raw libnfc {:.3})",
        rate(totals[0], n),
        rate(totals[1], n),
        totals[1].as_secs_f64() / totals[0].as_secs_f64(),
        rate(totals[2], n),
        totals[2].as_secs_f64() / totals[0].as_secs_f64(),
    );
    if vpcd.is_some() {
        println!(
            "  pcscd/vpcd (pos-pcsc) {:.0}/s (time ratio to raw libnfc {:.3})",
            rate(totals[3], n),
            totals[3].as_secs_f64() / totals[0].as_secs_f64(),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
