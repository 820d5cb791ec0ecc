//! The writer task: drains a connection's outbox into the socket. Everything taken in one wake
//! is written into a buffered writer and flushed once: on loopback the cost is per write call,
//! not per byte.

use std::sync::Arc;
use std::time::Duration;

use fastwebsockets::{Frame, Payload, WebSocketWrite};
use shared::protocol::{Ping, ServerMessage, SnapshotHeader};
use shared::{Tick, codec};
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use crate::matches::frame::History;
use crate::matches::outbox::{Control, Outbox};
use crate::metrics::Metrics;

use super::monotonic_us;

/// How often the server pings a client to measure its round trip.
const PING_EVERY: Duration = Duration::from_secs(1);

/// The most ticks between a client's two latest acknowledgements for a delta to predict
/// positions from the older one. In steady play they are one tick apart; a wider gap means the
/// client fell behind, and the older world is more likely to have left a client's bounded
/// history (a bot keeps about a second plus its link delay).
const MAX_PREDICTION_SPAN: i32 = 8;

pub(crate) struct Writer<S> {
    pub(crate) ws: WebSocketWrite<S>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) history: Arc<History>,
    pub(crate) metrics: Metrics,
    /// A write that makes no progress for this long means the client stopped reading.
    pub(crate) stall_timeout: Duration,
    /// Cancelled when this writer ends, so the reader stops too.
    pub(crate) done: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error("socket write failed: {0}")]
    Socket(#[from] fastwebsockets::WebSocketError),
    #[error("client stopped reading")]
    Stalled,
}

impl<S: AsyncWrite + Unpin> Writer<S> {
    pub(crate) async fn run(mut self) {
        if let Err(e) = self.drain().await {
            tracing::debug!(error = %e, "writer ended");
            if matches!(e, WriteError::Stalled) {
                self.metrics.clients_dropped.inc();
            }
        }
        self.done.cancel();
    }

    async fn drain(&mut self) -> Result<(), WriteError> {
        let mut frame_buf = Vec::with_capacity(2048);
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut ping_id = 0u32;
        loop {
            let batch = tokio::select! {
                batch = self.outbox.next_batch() => batch,
                _ = ping.tick() => {
                    ping_id = ping_id.wrapping_add(1);
                    let msg = codec::encode_server(&ServerMessage::Ping(Ping { id: ping_id, sent_us: monotonic_us() }));
                    self.outbox.push_control(Control::Message(msg.into()));
                    continue;
                }
                _ = self.done.cancelled() => return Ok(()),
            };
            let mut bytes = 0usize;
            let mut frames = 0u64;
            for item in batch.control {
                let frame = match &item {
                    Control::Message(b) => Frame::binary(Payload::Borrowed(b)),
                    Control::Pong(b) => Frame::pong(Payload::Borrowed(b)),
                };
                bytes += frame.payload.len();
                frames += 1;
                self.write(frame).await?;
            }
            if let Some(pending) = batch.snapshot {
                let tick = pending.frame.tick;
                let acks = self.outbox.acks();
                let baseline = if !acks.newest.is_zero() && acks.newest < tick {
                    self.history.get(acks.newest)
                } else {
                    None
                };
                // Predict from the acknowledgement before, if it is recent: the client applied
                // it and keeps the worlds since its newest delta's older baseline.
                let older = match acks.newest.since(acks.older) {
                    1..=MAX_PREDICTION_SPAN if baseline.is_some() && !acks.older.is_zero() => {
                        self.history.get(acks.older)
                    }
                    _ => None,
                };
                let body = pending
                    .frame
                    .body(baseline.as_deref(), older.as_deref(), &self.metrics);
                let header = SnapshotHeader {
                    tick,
                    baseline_tick: baseline.as_ref().map_or(Tick::ZERO, |b| b.tick),
                    last_input_seq: pending.last_input_seq,
                };
                if baseline.is_none() {
                    self.metrics.keyframes_sent.inc();
                } else if older.is_some() {
                    // `body` predicts from every older frame of the history: it is at most
                    // MAX_PREDICTION_SPAN ticks before a baseline that is before this tick.
                    self.metrics.predicted_deltas_sent.inc();
                }
                frame_buf.clear();
                codec::snapshot_frame(&header, &body, &mut frame_buf);
                bytes += frame_buf.len();
                frames += 1;
                // Marked before the write: a client may receive, apply and acknowledge the
                // frame before this task runs again, and an ack of a tick not yet marked would
                // be dropped while the client already relies on it as its baseline.
                self.outbox.mark_sent(tick);
                self.write(Frame::binary(Payload::Borrowed(&frame_buf)))
                    .await?;
            }
            if let Some(close) = batch.close {
                // Reasons must fit a control frame (125 bytes with the code).
                let mut reason = close.reason;
                while reason.len() > 120 {
                    reason.pop();
                }
                self.write(Frame::close(close.code, reason.as_bytes()))
                    .await?;
                self.flush().await?;
                return Ok(());
            }
            self.flush().await?;
            self.metrics.bytes_sent.inc_by(bytes as u64);
            self.metrics.frames_sent.inc_by(frames);
        }
    }

    async fn write(&mut self, frame: Frame<'_>) -> Result<(), WriteError> {
        match tokio::time::timeout(self.stall_timeout, self.ws.write_frame(frame)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(WriteError::Stalled),
        }
    }

    async fn flush(&mut self) -> Result<(), WriteError> {
        match tokio::time::timeout(self.stall_timeout, self.ws.flush()).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(WriteError::Stalled),
        }
    }
}
