//! What every WebSocket endpoint shares: how an upgraded socket is split and buffered, the
//! inbound reader with its size limit, masking check and fragment collection, how a refusal
//! closes the connection, and the closing handshake. `/v1/realtime` and the diagnostics echo
//! are built from these, so the echo's conformance results speak for the game endpoint.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use fastwebsockets::{Frame, Role, WebSocket, WebSocketWrite};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use shared::close;
use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf, ReadHalf, WriteHalf};

use super::inbound::{Inbound, InboundError, InboundReader, ReadNow};
use super::tcp::SharedTcp;
use super::tls_socket::{TlsRead, TlsSocket, TlsWrite};
use crate::matches::outbox::DirectSocket;

pub(super) type Io = TokioIo<Upgraded>;
pub(super) type Reader = InboundReader<ReadSide>;
pub(super) type Write = WebSocketWrite<BufWriter<WriteSide>>;

/// The reading side of an upgraded connection.
pub(crate) enum ReadSide {
    Plain(SharedTcp),
    Tls(TlsRead),
    Other(ReadHalf<Io>),
}

/// The writing side of an upgraded connection.
pub(crate) enum WriteSide {
    Plain(SharedTcp),
    Tls(TlsWrite),
    Other(WriteHalf<Io>),
}

/// A close the server sends, with a reason a person can read.
pub(super) struct Refuse(pub(super) u16, pub(super) String);

impl Refuse {
    pub(super) fn new(code: u16, reason: impl Into<String>) -> Refuse {
        Refuse(code, reason.into())
    }
}

/// An upgraded connection split for use: the inbound reader (messages up to `max_message`
/// bytes; text frames only if `text`), a buffered writer for what is sent before a match takes
/// over the socket, and the socket itself (plain TCP or TLS over TCP), which the match's tick
/// reads and writes directly.
pub(super) struct Split {
    pub(super) reader: Reader,
    pub(super) write: Write,
    pub(super) direct: Option<DirectSocket>,
}

/// Splits the upgraded connection; an error if its socket could not be taken out of the
/// reactor.
pub(super) fn split(ws: WebSocket<Io>, max_message: usize, text: bool) -> io::Result<Split> {
    let (read, write, direct) = match SharedTcp::from_upgraded(ws.into_inner().into_inner()) {
        Ok(tcp) => {
            let tcp = tcp?;
            (
                ReadSide::Plain(tcp.clone()),
                WriteSide::Plain(tcp.clone()),
                Some(DirectSocket::Plain(tcp.socket())),
            )
        }
        Err(other) => match TlsSocket::from_upgraded(other) {
            Ok(tls) => {
                let (tls, read_ahead) = tls?;
                (
                    ReadSide::Tls(TlsRead::new(tls.clone(), read_ahead)),
                    WriteSide::Tls(TlsWrite::new(tls.clone())),
                    Some(DirectSocket::Tls(tls)),
                )
            }
            Err(other) => {
                let (r, w) = tokio::io::split(TokioIo::new(other));
                (ReadSide::Other(r), WriteSide::Other(w), None)
            }
        },
    };
    // fastwebsockets frames what the session writes; the reading is `InboundReader`'s, so the
    // WebSocket is given nothing to read. A session writes little (a refusal), and a larger
    // frame goes straight through the buffer.
    let writer = BufWriter::with_capacity(1024, write);
    let mut ws =
        WebSocket::after_handshake(tokio::io::join(tokio::io::empty(), writer), Role::Server);
    ws.set_writev(false);
    let (_, write) = ws.split(|io| io.into_inner());
    Ok(Split {
        reader: InboundReader::new(read, max_message, text),
        write,
        direct,
    })
}

impl AsyncRead for ReadSide {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ReadSide::Plain(t) => Pin::new(t).poll_read(cx, buf),
            ReadSide::Tls(t) => Pin::new(t).poll_read(cx, buf),
            ReadSide::Other(t) => Pin::new(t).poll_read(cx, buf),
        }
    }
}

impl ReadNow for ReadSide {
    fn read_now(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ReadSide::Plain(t) => t.read_now(buf),
            ReadSide::Tls(t) => t.read_now(buf),
            ReadSide::Other(t) => {
                // Only TCP and TLS connections reach a match; this is for completeness.
                let mut read = ReadBuf::new(buf);
                match Pin::new(t).poll_read(&mut Context::from_waker(Waker::noop()), &mut read) {
                    Poll::Ready(Ok(())) => Ok(read.filled().len()),
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
                }
            }
        }
    }
}

impl AsyncWrite for WriteSide {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WriteSide::Plain(t) => Pin::new(t).poll_write(cx, buf),
            WriteSide::Tls(t) => Pin::new(t).poll_write(cx, buf),
            WriteSide::Other(t) => Pin::new(t).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteSide::Plain(t) => Pin::new(t).poll_flush(cx),
            WriteSide::Tls(t) => Pin::new(t).poll_flush(cx),
            WriteSide::Other(t) => Pin::new(t).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteSide::Plain(t) => Pin::new(t).poll_shutdown(cx),
            WriteSide::Tls(t) => Pin::new(t).poll_shutdown(cx),
            WriteSide::Other(t) => Pin::new(t).poll_shutdown(cx),
        }
    }
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
