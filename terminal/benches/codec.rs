//! Pack + unpack of a CUP sale request and its response (goal: ≥ 1,000,000 messages/s on one
//! core), with the CUP MAC as a separate figure.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pos_hal::Amount;
use pos_terminal::crypto::{SecretKey, cup_mac};
use pos_terminal::iso8583::{Frame, Message, Mti};

const FRAME: Frame = Frame::new(
    [0x60, 0x00, 0x03, 0x00, 0x00],
    [0x60, 0x31, 0x00, 0x31, 0x00, 0x00],
);

fn sale_request() -> Message<'static> {
    let mut m = Message::new(Mti::FINANCIAL_REQUEST);
    let set = |m: &mut Message<'static>, n: u8, v: &'static str| {
        m.set_text(n, v)
            .map(|_| ())
            .unwrap_or_else(|e| panic!("field {n}: {e}"));
    };
    set(&mut m, 2, "6212345678901232");
    set(&mut m, 3, "000000");
    m.set_amount(Amount::from_minor(5000).unwrap_or_default())
        .map(|_| ())
        .unwrap_or(());
    set(&mut m, 11, "000123");
    set(&mut m, 14, "3012");
    set(&mut m, 22, "051");
    set(&mut m, 23, "001");
    set(&mut m, 25, "00");
    set(&mut m, 26, "12");
    set(&mut m, 35, "6212345678901232=30122200000000000");
    set(&mut m, 41, "12345678");
    set(&mut m, 42, "123456789012345");
    set(&mut m, 49, "156");
    m.set_bytes(52, &[0x11u8; 8][..]).map(|_| ()).unwrap_or(());
    set(&mut m, 53, "2600000000000000");
    m.set_bytes(
        55,
        &[
            0x9F, 0x26, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x9F, 0x27, 0x01, 0x80,
        ][..],
    )
    .map(|_| ())
    .unwrap_or(());
    set(&mut m, 60, "22000001000501");
    set(&mut m, 63, "01 ");
    m.set_bytes(64, &b"8A9E91B8"[..]).map(|_| ()).unwrap_or(());
    m
}

fn sale_response() -> Message<'static> {
    let mut m = Message::new(Mti::FINANCIAL_REQUEST.response());
    for (n, v) in [
        (2, "6212345678901232"),
        (3, "000000"),
        (4, "000000005000"),
        (11, "000123"),
        (12, "101010"),
        (13, "1123"),
        (14, "3012"),
        (15, "1123"),
        (25, "00"),
        (32, "00010000"),
        (37, "000000000001"),
        (38, "123456"),
        (39, "00"),
        (41, "12345678"),
        (42, "123456789012345"),
        (44, "0303000003030000"),
        (49, "156"),
        (60, "22000001000"),
    ] {
        m.set_text(n, v)
            .map(|_| ())
            .unwrap_or_else(|e| panic!("field {n}: {e}"));
    }
    m.set_bytes(64, &b"8A9E91B8"[..]).map(|_| ()).unwrap_or(());
    m
}

fn bench(c: &mut Criterion) {
    let request = sale_request();
    let response = sale_response();
    let req_bytes = FRAME.encode_payload(&request).unwrap_or_default();
    let rsp_bytes = FRAME.encode_payload(&response).unwrap_or_default();
    let mut group = c.benchmark_group("iso8583");
    group.throughput(Throughput::Elements(1));
    let mut buf = Vec::with_capacity(512);
    group.bench_function("pack_sale_request", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&request)
                .pack_into(&mut buf)
                .map(|_| buf.len())
                .unwrap_or(0)
        })
    });
    group.bench_function("unpack_sale_request", |b| {
        b.iter(|| {
            Frame::decode_payload(black_box(&req_bytes))
                .map(|(_, m)| m.numbers().count())
                .unwrap_or(0)
        })
    });
    group.bench_function("pack_unpack_sale_round_trip", |b| {
        b.iter(|| {
            buf.clear();
            let _ = black_box(&request).pack_into(&mut buf);
            let a = Message::unpack(&buf).map(|m| m.mti()).ok();
            let r = Frame::decode_payload(black_box(&rsp_bytes))
                .map(|(_, m)| m.stan().ok().flatten())
                .ok();
            (a, r)
        })
    });
    let mak = SecretKey::tdes(&[0xC2, 0x4A, 0x8F, 0xB5, 0x7A, 0xA2, 0x01, 0x23]);
    if let Ok(mak) = mak {
        let mab = &req_bytes[11..req_bytes.len() - 8];
        group.bench_function("cup_mac_sale_request", |b| {
            b.iter(|| cup_mac(&mak, black_box(mab)).ok())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
