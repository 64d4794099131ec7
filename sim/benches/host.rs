//! host-sim durable transactions per second: 8 parallel TCP clients sending MAC'd sales, each
//! committed to SQLite (WAL, synchronous=FULL) before the answer (goal ≥ 5,000/s).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pos_hal::Amount;
use pos_platform::TcpHostLink;
use pos_sim::acquirer::{HostConfig, HostSim};
use pos_terminal::crypto::{KeyBlockLayout, SecretKey, WorkingKeys, cup_mac, parse_key_block};
use pos_terminal::host::HostLink;
use pos_terminal::iso8583::{Frame, Message, Mti};

const FRAME: Frame = Frame::new(
    [0x60, 0x00, 0x03, 0x00, 0x00],
    [0x60, 0x31, 0x00, 0x31, 0x00, 0x00],
);
const CLIENTS: u32 = 8;

fn sign_in(link: &mut TcpHostLink) -> Option<WorkingKeys> {
    let mut m = Message::new(Mti::NETWORK_REQUEST);
    m.set_text(11, "000001")
        .ok()?
        .set_text(41, "12345678")
        .ok()?
        .set_text(42, "123456789012345")
        .ok()?;
    m.set_text(60, "00000000003").ok()?;
    let rsp = link
        .exchange(
            &FRAME.encode_payload(&m).ok()?,
            Duration::from_secs(5),
            &pos_hal::CancelToken::new(),
        )
        .ok()?;
    let (_, msg) = Frame::decode_payload(&rsp).ok()?;
    let block = msg.text(62).ok()??.into_owned();
    let tmk = SecretKey::tdes(&hex::decode("70F2A84CCBC2AE8625CBB0F2C22AB923").ok()?).ok()?;
    parse_key_block(&block, &tmk, &KeyBlockLayout::default()).ok()
}

fn sale(link: &mut TcpHostLink, keys: &WorkingKeys, stan: u32) -> bool {
    let mut m = Message::new(Mti::FINANCIAL_REQUEST);
    let ok = (|| {
        m.set_text(2, "4761739001010010")
            .ok()?
            .set_text(3, "000000")
            .ok()?;
        m.set_amount(Amount::from_minor(1).ok()?).ok()?;
        m.set_stan(stan)
            .ok()?
            .set_text(41, "12345678")
            .ok()?
            .set_text(42, "123456789012345")
            .ok()?;
        m.set_text(60, "22000001000").ok()?;
        let payload = FRAME
            .encode_payload_with_mac(&mut m, |mab| cup_mac(&keys.mak, mab).unwrap_or([0; 8]))
            .ok()?;
        let rsp = link
            .exchange(
                &payload,
                Duration::from_secs(5),
                &pos_hal::CancelToken::new(),
            )
            .ok()?;
        let (_, msg) = Frame::decode_payload(&rsp).ok()?;
        Some(msg.response_code().ok()?.as_deref() == Some("00"))
    })();
    ok.unwrap_or(false)
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("pos-host-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut config = HostConfig::demo(dir.join("ledger.sqlite"));
    config.accounts[1].balance = i64::MAX / 2;
    let Ok(host) = HostSim::start(config) else {
        return;
    };
    let addr = host.addr().to_string();
    let Some(keys) = sign_in(&mut TcpHostLink::new(addr.clone())) else {
        return;
    };
    let mut next_stan = 0u32;
    let mut group = c.benchmark_group("host_sim");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("durable_sales_8_clients_x_50", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let base = next_stan;
                next_stan = (next_stan + CLIENTS * 50) % 900_000;
                let start = Instant::now();
                std::thread::scope(|s| {
                    for client in 0..CLIENTS {
                        let (addr, keys) = (addr.clone(), &keys);
                        s.spawn(move || {
                            let mut link = TcpHostLink::new(addr).keep_open(true);
                            for i in 0..50 {
                                sale(&mut link, keys, base + client * 50 + i + 1);
                            }
                        });
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
