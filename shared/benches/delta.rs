//! Delta encode/decode cost for one match: 16 players + 200 other entities.
//! `cargo bench -p shared --bench delta`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use shared::codec;
use shared::games::arena::ArenaEntity;
use shared::{
    Delta, Prediction, World, apply, apply_into, apply_predicted, diff, diff_predicted, keyframe,
    sample,
};

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
        // What a client's replica does: the world rebuilt into a recycled allocation.
        group.bench_with_input(
            BenchmarkId::new("decode_apply_into", moved),
            &bytes,
            |b, bytes| {
                let mut out = World::new(base.schema());
                b.iter(|| {
                    let delta: Delta =
                        codec::decode_value(black_box(bytes), codec::MAX_SERVER_MESSAGE).unwrap();
                    apply_into(&base, &delta, &mut out).unwrap();
                    out.len()
                })
            },
        );
    }
    // Prediction: every entity moved at a constant velocity over the last two ticks, so the
    // predicted delta is empty; the cost is the prediction itself on both sides.
    let older = sample::world(ENTITIES, 0);
    let moving = sample::world(ENTITIES, ENTITIES);
    let onward = World::from_entities(
        older
            .entities::<ArenaEntity>()
            .zip(moving.entities::<ArenaEntity>())
            .map(|((_, o), (id, m))| {
                let mut e = m;
                e.x += m.x - o.x;
                e.y += m.y - o.y;
                (id, e)
            })
            .collect(),
    );
    let prediction = Prediction::new(1, 1).expect("in range");
    let bytes = codec::encode_value(&diff_predicted(&older, &moving, &onward, prediction));
    println!(
        "moved {ENTITIES:>3} twice, predicted: delta {} B",
        bytes.len()
    );
    group.bench_function("diff_predicted_encode", |b| {
        let mut out = Vec::with_capacity(4096);
        b.iter(|| {
            out.clear();
            let delta = diff_predicted(
                black_box(&older),
                black_box(&moving),
                black_box(&onward),
                prediction,
            );
            codec::encode_into(&delta, &mut out);
            out.len()
        })
    });
    group.bench_function("decode_apply_predicted", |b| {
        b.iter(|| {
            let delta: Delta =
                codec::decode_value(black_box(&bytes), codec::MAX_SERVER_MESSAGE).unwrap();
            apply_predicted(&older, &moving, &delta).unwrap()
        })
    });

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
