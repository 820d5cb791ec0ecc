//! Reading client frames: reassembles fragmented binary messages up to the size limit and turns
//! everything else into a value the session can act on. Never panics on hostile frames.

use fastwebsockets::{OpCode, WebSocketError, WebSocketRead};
use tokio::io::AsyncRead;

/// What a client sent.
#[derive(Debug)]
pub(crate) enum Inbound {
    Binary(Vec<u8>),
    /// A WebSocket ping; the writer answers with a pong of the same payload.
    Ping(Vec<u8>),
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
    #[error("WebSocket protocol error: {0}")]
    Protocol(String),
    /// The peer went away (EOF, reset).
    #[error("connection lost: {0}")]
    Gone(String),
}

pub(crate) struct InboundReader<S> {
    read: WebSocketRead<S>,
    max: usize,
    partial: Option<Vec<u8>>,
}

impl<S: AsyncRead + Unpin> InboundReader<S> {
    /// `max` bounds a whole message, fragments included.
    pub(crate) fn new(mut read: WebSocketRead<S>, max: usize) -> InboundReader<S> {
        // fastwebsockets refuses frames of `max_message_size` or more; ours must allow `max`.
        read.set_max_message_size(max + 1);
        // Pings and closes are answered by our writer task, not by the reader's obligated sends.
        read.set_auto_pong(false);
        read.set_auto_close(false);
        InboundReader {
            read,
            max,
            partial: None,
        }
    }

    pub(crate) async fn next(&mut self) -> Result<Inbound, InboundError> {
        loop {
            let frame = self
                .read
                .read_frame(&mut |_| async { Ok::<(), std::io::Error>(()) })
                .await
                .map_err(|e| match e {
                    WebSocketError::FrameTooLarge => InboundError::TooLarge(self.max),
                    WebSocketError::UnexpectedEOF | WebSocketError::IoError(_) => {
                        InboundError::Gone(e.to_string())
                    }
                    other => InboundError::Protocol(other.to_string()),
                })?;
            match frame.opcode {
                OpCode::Binary if frame.fin => {
                    if self.partial.is_some() {
                        return Err(InboundError::Protocol(
                            "new message before the fragmented one finished".into(),
                        ));
                    }
                    return Ok(Inbound::Binary(frame.payload.to_vec()));
                }
                OpCode::Binary => {
                    if self.partial.is_some() {
                        return Err(InboundError::Protocol(
                            "new message before the fragmented one finished".into(),
                        ));
                    }
                    self.partial = Some(frame.payload.to_vec());
                }
                OpCode::Continuation => {
                    let Some(buf) = self.partial.as_mut() else {
                        return Err(InboundError::Protocol(
                            "continuation without a start".into(),
                        ));
                    };
                    if buf.len() + frame.payload.len() > self.max {
                        return Err(InboundError::TooLarge(self.max));
                    }
                    buf.extend_from_slice(&frame.payload);
                    if frame.fin {
                        // Invariant: checked `is_some` just above.
                        return Ok(Inbound::Binary(self.partial.take().unwrap_or_default()));
                    }
                }
                OpCode::Text => return Err(InboundError::Text),
                OpCode::Close => {
                    let payload = &frame.payload[..];
                    let (code, reason) = match payload.len() {
                        0 => (1005, String::new()),
                        1 => return Err(InboundError::Protocol("one-byte close payload".into())),
                        _ => (
                            u16::from_be_bytes([payload[0], payload[1]]),
                            String::from_utf8_lossy(&payload[2..]).into_owned(),
                        ),
                    };
                    return Ok(Inbound::Close { code, reason });
                }
                OpCode::Ping => return Ok(Inbound::Ping(frame.payload.to_vec())),
                OpCode::Pong => {}
            }
        }
    }
}
