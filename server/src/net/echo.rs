//! `/v1/diagnostics/echo` (only with `--diagnostics`): echoes every message back, on the same
//! socket setup as `/v1/realtime` (reader, masking check, fragment collection, size limit,
//! close and ping handling), so the Autobahn|Testsuite can check that setup for conformance.
//! Text is admitted here (the suite sends it), and the size limit is larger than a game
//! message so the suite's 64 KiB cases fit.

use fastwebsockets::{Frame, Payload, WebSocket};

use super::inbound::{Inbound, InboundError};
use super::socket::{self, Io, Refuse, Split, close_now, drain_until_closed};

/// The largest message the echo takes.
pub(super) const MAX_ECHO_MESSAGE: usize = 1 << 20;

pub(super) async fn run(ws: WebSocket<Io>) {
    let Split {
        mut reader,
        mut write,
        ..
    } = match socket::split(ws, MAX_ECHO_MESSAGE, true) {
        Ok(split) => split,
        Err(e) => {
            tracing::warn!(error = %e, "could not set up an echo connection");
            return;
        }
    };
    loop {
        let reply = match reader.next().await {
            Ok(Inbound::Binary(bytes)) => Frame::binary(Payload::Owned(bytes)),
            Ok(Inbound::Text(text)) => Frame::text(Payload::Owned(text.into_bytes())),
            Ok(Inbound::Ping(payload)) => Frame::pong(Payload::Owned(payload)),
            Ok(Inbound::Pong) => continue,
            Ok(Inbound::Close { code, reason }) => {
                // The closing handshake: echo the peer's code (none if it sent none).
                let close = if code == 1005 {
                    Frame::close_raw(Payload::Owned(Vec::new()))
                } else {
                    Frame::close(code, reason.as_bytes())
                };
                let _ = write.write_frame(close).await;
                let _ = write.flush().await;
                return;
            }
            Err(InboundError::Gone(_)) => return,
            Err(e) => {
                let Refuse(code, reason) = socket::refusal(e);
                close_now(&mut write, code, &reason).await;
                drain_until_closed(&mut reader).await;
                return;
            }
        };
        if write.write_frame(reply).await.is_err() || write.flush().await.is_err() {
            return;
        }
    }
}
