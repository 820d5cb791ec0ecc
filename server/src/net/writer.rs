//! The writer task of a connection whose outbox is not direct (TLS): drains the outbox into the
//! socket. Everything taken in one wake is written into a buffered writer and flushed once: on
//! loopback the cost is per write call, not per byte.

use std::sync::Arc;
use std::time::Duration;

use fastwebsockets::{Frame, Payload, WebSocketWrite};
use shared::codec;
use shared::protocol::{Ping, ServerMessage};
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use crate::matches::frame::History;
use crate::matches::outbox::{Control, Outbox};
use crate::matches::wire;
use crate::metrics::Metrics;

use super::monotonic_us;

/// How often the server pings a client to measure its round trip.
const PING_EVERY: Duration = Duration::from_secs(1);

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
                frame_buf.clear();
                let acks = self.outbox.acks();
                let tick = wire::snapshot_message(
                    acks,
                    &pending,
                    &self.history,
                    &self.metrics,
                    &mut frame_buf,
                );
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
