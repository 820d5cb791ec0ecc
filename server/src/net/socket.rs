//! What every WebSocket endpoint shares: how an upgraded socket is split and buffered, the
//! inbound reader with its size limit, masking check and fragment collection, how a refusal
//! closes the connection, and the closing handshake. `/v1/realtime` and the diagnostics echo
//! are built from these, so the echo's conformance results speak for the game endpoint.

use std::time::Duration;

use fastwebsockets::{Frame, WebSocket, WebSocketWrite};
use hyper_util::rt::TokioIo;
use shared::close;
use tokio::io::{BufWriter, ReadHalf, WriteHalf};

use super::inbound::{Inbound, InboundError, InboundReader};

pub(super) type Io = TokioIo<hyper::upgrade::Upgraded>;
pub(super) type Reader = InboundReader<ReadHalf<Io>>;
pub(super) type Write = WebSocketWrite<BufWriter<WriteHalf<Io>>>;

/// A close the server sends, with a reason a person can read.
pub(super) struct Refuse(pub(super) u16, pub(super) String);

impl Refuse {
    pub(super) fn new(code: u16, reason: impl Into<String>) -> Refuse {
        Refuse(code, reason.into())
    }
}

/// Splits an upgraded socket into the inbound reader (messages up to `max_message` bytes;
/// text frames only if `text`) and a buffered writer.
pub(super) fn split(mut ws: WebSocket<Io>, max_message: usize, text: bool) -> (Reader, Write) {
    ws.set_writev(false);
    let (read, write) = ws.split(|io| {
        let (r, w) = tokio::io::split(io);
        // One tick's frames fit; a larger keyframe is written straight through. Per-connection
        // buffers are most of a client's memory, so this stays small.
        (r, BufWriter::with_capacity(4 * 1024, w))
    });
    (InboundReader::new(read, max_message, text), write)
}

/// The close a reading error calls for.
pub(super) fn refusal(e: InboundError) -> Refuse {
    match e {
        InboundError::TooLarge(max) => Refuse::new(
            close::MESSAGE_TOO_BIG,
            format!("messages are limited to {max} bytes"),
        ),
        InboundError::Text => Refuse::new(close::UNSUPPORTED_DATA, e.to_string()),
        InboundError::InvalidUtf8 => Refuse::new(close::INVALID_PAYLOAD, e.to_string()),
        InboundError::Protocol(p) => Refuse::new(close::PROTOCOL_ERROR, p),
        InboundError::Unmasked => Refuse::new(close::PROTOCOL_ERROR, e.to_string()),
        InboundError::Gone(g) => Refuse::new(close::NORMAL, g),
    }
}

pub(super) async fn close_now(write: &mut Write, code: u16, reason: &str) {
    tracing::debug!(code, reason, "closing a WebSocket");
    let _ = write
        .write_frame(Frame::close(code, reason.as_bytes()))
        .await;
    let _ = write.flush().await;
}

/// The closing handshake's second half: read and discard until the client closes too (or a
/// short time passes). Dropping a socket with unread input makes the kernel send a reset, which
/// can destroy the close frame (and its reason) before the client reads it.
pub(super) async fn drain_until_closed(reader: &mut Reader) {
    if reader.peer_closed() {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(inbound) = reader.next().await {
            if matches!(inbound, Inbound::Close { .. }) {
                break;
            }
        }
    })
    .await;
}
