//! SELECT round trips through pos-pcsc vs the raw `pcsc` crate, on the same simulated card in
//! the same run (needs `cargo xtask up`; run with `cargo xtask bench`).
//!
//! Criterion measures single SELECTs for both; then 10,000 SELECTs per side, interleaved in
//! blocks of 1,000 so that drift in pcscd hits both equally, give the overhead ratio and the
//! APDU rate, printed at the end.

use std::ffi::CString;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pos_hal::{Apdu, CardChannel, IccReader};
use pos_pcsc::{PcscReader, ReaderSelector};
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::slots;
use pos_sim::vpcd::Faults;

const SELECT: [u8; 12] = [
    0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10,
];

struct Setup {
    raw: pcsc::Card,
    ours: PcscReader,
    _card: pos_sim::vpcd::VirtualCard,
}

fn setup() -> Option<Setup> {
    if !slots::stack_available() {
        eprintln!("SKIPPED: pcscd with vpcd readers not running (use `cargo xtask bench`)");
        return None;
    }
    let profile = CardProfile::builtin("visa-credit")?;
    let card = slots::insert(0, EmvCard::new(profile), Faults::default()).ok()?;
    let ctx = pcsc::Context::establish(pcsc::Scope::User).ok()?;
    let name = CString::new(slots::READERS[0]).ok()?;
    let raw = ctx
        .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .ok()?;
    let mut ours = PcscReader::open(&ReaderSelector::Exact(slots::READERS[0].into())).ok()?;
    ours.power_on().ok()?;
    Some(Setup {
        raw,
        ours,
        _card: card,
    })
}

fn raw_select(card: &pcsc::Card, rx: &mut [u8]) -> usize {
    card.transmit(&SELECT, rx).map(|r| r.len()).unwrap_or(0)
}

fn our_select(reader: &mut PcscReader, apdu: &Apdu<'_>, rx: &mut [u8]) -> usize {
    reader.transmit(apdu, rx).map(|r| r.data.len()).unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let Some(mut s) = setup() else { return };
    let apdu = Apdu::parse(&SELECT).expect("valid SELECT");
    let mut rx = vec![0u8; pcsc::MAX_BUFFER_SIZE];
    assert!(raw_select(&s.raw, &mut rx) > 2, "raw SELECT works");
    assert!(
        our_select(&mut s.ours, &apdu, &mut rx) > 0,
        "driver SELECT works"
    );

    let mut group = c.benchmark_group("select");
    group
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    group.bench_function("raw_pcsc", |b| {
        b.iter(|| black_box(raw_select(&s.raw, &mut rx)))
    });
    group.bench_function("pos_pcsc", |b| {
        b.iter(|| black_box(our_select(&mut s.ours, &apdu, &mut rx)))
    });
    group.finish();

    // `cargo bench` passes --bench; listing or test runs (`cargo test --benches`, nextest) do not.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (mut raw, mut ours) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..10 {
        let t = Instant::now();
        for _ in 0..1000 {
            black_box(raw_select(&s.raw, &mut rx));
        }
        raw += t.elapsed();
        let t = Instant::now();
        for _ in 0..1000 {
            black_box(our_select(&mut s.ours, &apdu, &mut rx));
        }
        ours += t.elapsed();
    }
    let ratio = ours.as_secs_f64() / raw.as_secs_f64();
    println!(
        "10,000 SELECTs each: raw pcsc {:.0} APDU/s, pos-pcsc {:.0} APDU/s, overhead ratio {ratio:.3} (goal <= 1.05)",
        10_000.0 / raw.as_secs_f64(),
        10_000.0 / ours.as_secs_f64(),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
