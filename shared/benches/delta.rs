//! Delta encode/decode cost for one match: 16 players + 200 other entities.
//! `cargo bench -p shared --bench delta`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use shared::codec;
use shared::{Delta, apply, diff, keyframe, sample};

fn delta_benches(c: &mut Criterion) {
    const ENTITIES: u32 = 216;
    let base = sample::world(ENTITIES, 0);
    let mut group = c.benchmark_group("delta_216_entities");
    // 0: idle tick; 40: typical play (players and projectiles moving); 216: everything moved.
    for moved in [0u32, 40, ENTITIES] {
        let current = sample::world(ENTITIES, moved);
        let bytes = codec::encode_value(&diff(&base, &current));
        println!("moved {moved:>3}: delta {} B", bytes.len());
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(
            BenchmarkId::new("diff_encode", moved),
            &current,
            |b, cur| {
                let mut out = Vec::with_capacity(4096);
                b.iter(|| {
                    out.clear();
                    codec::encode_into(&diff(black_box(&base), black_box(cur)), &mut out);
                    out.len()
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("decode_apply", moved),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    let delta: Delta =
                        codec::decode_value(black_box(bytes), codec::MAX_SERVER_MESSAGE).unwrap();
                    apply(&base, &delta).unwrap()
                })
            },
        );
    }
    let key = codec::encode_value(&keyframe(&base));
    println!("keyframe: {} B", key.len());
    group.bench_function("keyframe_encode", |b| {
        let mut out = Vec::with_capacity(8192);
        b.iter(|| {
            out.clear();
            codec::encode_into(&keyframe(black_box(&base)), &mut out);
            out.len()
        })
    });
    group.bench_function("checksum", |b| {
        b.iter(|| shared::checksum(black_box(&base)))
    });
    group.finish();
}

criterion_group!(benches, delta_benches);
criterion_main!(benches);
