//! Reading client frames: reassembles fragmented binary messages up to the size limit and turns
//! everything else into a value the session can act on. Never panics on hostile frames.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use fastwebsockets::{Frame, OpCode, WebSocketError, WebSocketRead};
use tokio::io::AsyncRead;

/// What a client sent.
#[derive(Debug)]
pub(crate) enum Inbound {
    Binary(Vec<u8>),
    /// Only from a reader made to accept text (the diagnostics echo); valid UTF-8.
    Text(String),
    /// A WebSocket ping; the session answers with a pong of the same payload.
    Ping(Vec<u8>),
    /// A WebSocket pong (unasked for: the server sends no WebSocket pings). Handed up so a
    /// flood of them counts like any other.
    Pong,
    Close {
        code: u16,
        reason: String,
    },
}

/// Why reading stopped; each maps to a close code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InboundError {
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    #[error("text frames are not part of the protocol; send binary frames")]
    Text,
    #[error("text that is not UTF-8")]
    InvalidUtf8,
    #[error("WebSocket protocol error: {0}")]
    Protocol(String),
    /// RFC 6455 §5.1: a client must mask every frame, and a server must fail the connection
    /// when one is not (fastwebsockets unmasks but does not check).
    #[error("client frames must be masked")]
    Unmasked,
    /// The peer went away (EOF, reset).
    #[error("connection lost: {0}")]
    Gone(String),
}

/// Whether the frame came with a masking key. fastwebsockets keeps the key private; the header
/// it would write for the frame carries the mask bit.
fn is_masked(frame: &mut Frame<'_>) -> bool {
    let mut head = [0u8; 14];
    frame.fmt_head(&mut head);
    head[1] & 0x80 != 0
}

fn message(payload: Vec<u8>, text: bool) -> Result<Inbound, InboundError> {
    if text {
        String::from_utf8(payload)
            .map(Inbound::Text)
            .map_err(|_| InboundError::InvalidUtf8)
    } else {
        Ok(Inbound::Binary(payload))
    }
}

pub(crate) struct InboundReader<S> {
    read: WebSocketRead<S>,
    max: usize,
    text: bool,
    /// A fragmented message being collected, and whether it is text.
    partial: Option<(Vec<u8>, bool)>,
    /// The peer sent a close frame.
    peer_closed: bool,
}

/// Close codes a peer may send (RFC 6455 §7.4): the defined ones that may appear on the wire,
/// and the ranges for libraries and applications.
fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl<S: AsyncRead + Unpin> InboundReader<S> {
    /// `max` bounds a whole message, fragments included; `text` admits text messages.
    pub(crate) fn new(mut read: WebSocketRead<S>, max: usize, text: bool) -> InboundReader<S> {
        // fastwebsockets refuses frames of `max_message_size` or more; ours must allow `max`.
        read.set_max_message_size(max + 1);
        // Pings and closes are answered through the outbox, not by the reader's obligated sends.
        read.set_auto_pong(false);
        read.set_auto_close(false);
        InboundReader {
            read,
            max,
            text,
            partial: None,
            peer_closed: false,
        }
    }

    /// Whether the peer sent its close frame (so the closing handshake has nothing to wait for).
    pub(crate) fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// The next message if it has arrived, without waiting: the tick's read. Behind
    /// [`WholeFrames`](super::whole_frames::WholeFrames) a read can only find nothing more
    /// between frames, so giving up there loses nothing.
    pub(crate) fn try_next(&mut self) -> Option<Result<Inbound, InboundError>> {
        let mut cx = Context::from_waker(Waker::noop());
        // Unconstrained: the tick reads every client in one poll of its task, and tokio's
        // cooperative budget would otherwise report "nothing yet" after a hundred reads.
        let next = pin!(tokio::task::unconstrained(self.next()));
        match next.poll(&mut cx) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }

    pub(crate) async fn next(&mut self) -> Result<Inbound, InboundError> {
        loop {
            let mut frame = self
                .read
                .read_frame(&mut |_| async { Ok::<(), std::io::Error>(()) })
                .await
                .map_err(|e| match e {
                    WebSocketError::FrameTooLarge => InboundError::TooLarge(self.max),
                    WebSocketError::UnexpectedEOF | WebSocketError::IoError(_) => {
                        InboundError::Gone(e.to_string())
                    }
                    WebSocketError::InvalidUTF8 => InboundError::InvalidUtf8,
                    other => InboundError::Protocol(other.to_string()),
                })?;
            if !is_masked(&mut frame) {
                return Err(InboundError::Unmasked);
            }
            if frame.opcode == OpCode::Close {
                // Whatever it holds, the peer has said its last word: no need to wait for one.
                self.peer_closed = true;
            }
            // RFC 6455 §5.5; fastwebsockets checks this for pings only.
            if matches!(frame.opcode, OpCode::Close | OpCode::Pong) && frame.payload.len() > 125 {
                return Err(InboundError::Protocol(
                    "control frame payload over 125 bytes".into(),
                ));
            }
            match frame.opcode {
                OpCode::Binary | OpCode::Text => {
                    let text = frame.opcode == OpCode::Text;
                    if text && !self.text {
                        return Err(InboundError::Text);
                    }
                    if self.partial.is_some() {
                        return Err(InboundError::Protocol(
                            "new message before the fragmented one finished".into(),
                        ));
                    }
                    let payload = frame.payload.to_vec();
                    if frame.fin {
                        return message(payload, text);
                    }
                    self.partial = Some((payload, text));
                }
                OpCode::Continuation => {
                    let Some((buf, _)) = self.partial.as_mut() else {
                        return Err(InboundError::Protocol(
                            "continuation without a start".into(),
                        ));
                    };
                    if buf.len() + frame.payload.len() > self.max {
                        return Err(InboundError::TooLarge(self.max));
                    }
                    buf.extend_from_slice(&frame.payload);
                    if frame.fin
                        && let Some((payload, text)) = self.partial.take()
                    {
                        return message(payload, text);
                    }
                }
                OpCode::Close => {
                    let payload = &frame.payload[..];
                    let (code, reason) = match payload.len() {
                        0 => (1005, String::new()),
                        1 => return Err(InboundError::Protocol("one-byte close payload".into())),
                        _ => {
                            let code = u16::from_be_bytes([payload[0], payload[1]]);
                            if !valid_close_code(code) {
                                return Err(InboundError::Protocol(format!(
                                    "close code {code} may not be sent"
                                )));
                            }
                            let reason = std::str::from_utf8(&payload[2..])
                                .map_err(|_| InboundError::InvalidUtf8)?;
                            (code, reason.to_string())
                        }
                    };
                    return Ok(Inbound::Close { code, reason });
                }
                OpCode::Ping => return Ok(Inbound::Ping(frame.payload.to_vec())),
                OpCode::Pong => return Ok(Inbound::Pong),
            }
        }
    }
}
