//! The per-client write path without the kernel: what the tick does for each directly written
//! client after the game has stepped, up to the `write` call. For N clients in steady play
//! (each acknowledging one of the two ticks before last, as clients a few milliseconds away do):
//! look up the baseline and the older ack in the history, take the shared encoded body (encoded
//! once per baseline pair, then cached), and frame the header, body and the once-a-second ping
//! into the socket buffer. `cargo bench -p server --bench write_path`
//!
//! The bodies are encoded before measuring: the bench is the per-client cost that scales with N,
//! the per-match encode is in `--bench tick`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use server::matches::Viewer;
use server::matches::frame::{History, TickFrame};
use server::matches::outbox::{Acks, PendingSnapshot, TickOut};
use server::metrics::Metrics;
use shared::{Tick, sample};

/// The `bench` map's size: 25 players and 100 drones.
const ENTITIES: u32 = 125;

fn write_path(c: &mut Criterion) {
    let metrics = Metrics::new();
    let history = History::new(64);
    for t in 1..=10u32 {
        history.push(Arc::new(TickFrame::new(
            Tick(t),
            sample::world(ENTITIES, t * 7 % ENTITIES),
            Vec::new().into(),
            t.is_multiple_of(10),
        )));
    }
    let frame = history.get(Tick(10)).expect("the newest frame");
    let mut group = c.benchmark_group("write_path");
    for clients in [100u32, 1000, 3000] {
        // The previous ack, then the newest: two ticks before last, or three.
        let acks: Vec<Acks> = (0..clients)
            .map(|i| {
                let newest = 8 - i % 2;
                Acks {
                    older: Tick(newest - 1),
                    newest: Tick(newest),
                }
            })
            .collect();
        let ping = shared::codec::encode_server(&shared::protocol::ServerMessage::Ping(
            shared::protocol::Ping { id: 1, sent_us: 1 },
        ));
        group.throughput(Throughput::Elements(u64::from(clients)));
        group.bench_with_input(BenchmarkId::new("assemble", clients), &clients, |b, _| {
            let mut out = TickOut::new(&history, &metrics, Vec::with_capacity(4096));
            b.iter(|| {
                let mut bytes = 0;
                for (i, acks) in acks.iter().enumerate() {
                    // Every 30th client gets this tick's ping, as a second's worth of ticks
                    // spreads them.
                    out.ping = (i % 30 == 0).then_some(&ping[..]);
                    let pending = PendingSnapshot {
                        frame: frame.clone(),
                        viewer: Viewer::Everything,
                        last_input_seq: i as u32,
                    };
                    black_box(out.assemble(*acks, &pending));
                    bytes += out.buf.len();
                }
                black_box(bytes)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, write_path);
criterion_main!(benches);
