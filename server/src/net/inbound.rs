//! Reading client frames: reassembles fragmented binary messages up to the size limit and turns
//! everything else into a value the session can act on. Never panics on hostile frames.

use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use fastwebsockets::OpCode;
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::io::poll_read_buf;

use super::frame_head::{self, FrameHead};

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
    /// when one is not.
    #[error("client frames must be masked")]
    Unmasked,
    /// The peer went away (EOF, reset).
    #[error("connection lost: {0}")]
    Gone(String),
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

/// Bytes made room for per read: a tick's inputs from one client are a few dozen.
const READ_CHUNK: usize = 2048;

/// Reads one client's frames from `S`. The frames are parsed here, not by fastwebsockets'
/// reader: its read is not cancel-safe (it consumes a header before it waits for the payload),
/// so the tick could not give up on it between clients, and it keeps an 8 KiB buffer per
/// connection. This one holds bytes only while a frame is incomplete.
pub(crate) struct InboundReader<S> {
    stream: S,
    /// Read but not yet taken: empty (and unallocated) between frames, which is most of the time.
    buf: BytesMut,
    max: usize,
    text: bool,
    /// A fragmented message being collected, and whether it is text.
    partial: Option<(Vec<u8>, bool)>,
    /// The peer sent a close frame.
    peer_closed: bool,
    /// The stream has ended.
    eof: bool,
}

/// A stream the tick can read without waiting.
pub(crate) trait ReadNow: AsyncRead + Unpin {
    /// Reads what has arrived into `buf`, without waiting or registering for a wake-up (0 at
    /// the end of the stream); `WouldBlock` if nothing has.
    fn read_now(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
}

impl<S: ReadNow> InboundReader<S> {
    /// The next message if it has arrived, without waiting or registering for a wake-up: the
    /// tick's read. Everything read stays in the reader, so giving up when nothing more has
    /// come loses nothing.
    pub(crate) fn try_next(&mut self) -> Option<Result<Inbound, InboundError>> {
        let mut scratch = [0u8; READ_CHUNK];
        loop {
            match self.take_message() {
                Ok(None) => {}
                Ok(Some(message)) => return Some(Ok(message)),
                Err(e) => return Some(Err(e)),
            }
            match self.stream.read_now(&mut scratch) {
                Ok(n) => self.keep(&scratch[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return None,
                Err(e) => return Some(Err(InboundError::Gone(e.to_string()))),
            }
        }
    }
}

/// Close codes a peer may send (RFC 6455 §7.4): the defined ones that may appear on the wire,
/// and the ranges for libraries and applications.
fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl<S: AsyncRead + Unpin> InboundReader<S> {
    /// `max` bounds a whole message, fragments included; `text` admits text messages.
    pub(crate) fn new(stream: S, max: usize, text: bool) -> InboundReader<S> {
        InboundReader {
            stream,
            buf: BytesMut::new(),
            max,
            text,
            partial: None,
            peer_closed: false,
            eof: false,
        }
    }

    /// Whether the peer sent its close frame (so the closing handshake has nothing to wait for).
    pub(crate) fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    pub(crate) async fn next(&mut self) -> Result<Inbound, InboundError> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Inbound, InboundError>> {
        loop {
            if let Some(message) = self.take_message()? {
                return Poll::Ready(Ok(message));
            }
            ready!(self.poll_fill(cx)).map_err(|e| InboundError::Gone(e.to_string()))?;
        }
    }

    /// The next message among the bytes held, if they complete one; the end of the stream once
    /// they cannot.
    fn take_message(&mut self) -> Result<Option<Inbound>, InboundError> {
        while let Some(head) = frame_head::parse(&self.buf, self.max)? {
            if self.buf.len() < head.frame_len() {
                break;
            }
            let mut payload = self.buf[head.size..head.frame_len()].to_vec();
            self.buf.advance(head.frame_len());
            if self.buf.is_empty() {
                // Thousands of idle connections should not each keep a read buffer.
                self.buf = BytesMut::new();
            }
            fastwebsockets::unmask(&mut payload, head.mask);
            if let Some(message) = self.frame(head, payload)? {
                return Ok(Some(message));
            }
        }
        if self.eof {
            return Err(InboundError::Gone("unexpected end of stream".into()));
        }
        Ok(None)
    }

    /// Reads what has arrived onto the end of `buf`.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if !self.buf.is_empty() {
            // Part of a frame is here: read the rest straight into the buffer holding it.
            self.buf.reserve(READ_CHUNK);
            let n = ready!(poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.buf))?;
            self.eof = n == 0;
            return Poll::Ready(Ok(()));
        }
        // Between frames, read onto the stack: a buffer is allocated only for what is left over.
        let mut scratch = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut read = ReadBuf::uninit(&mut scratch);
        ready!(Pin::new(&mut self.stream).poll_read(cx, &mut read))?;
        self.keep(read.filled());
        Poll::Ready(Ok(()))
    }

    /// Keeps what was read: the stream ended if nothing was.
    fn keep(&mut self, read: &[u8]) {
        self.eof = read.is_empty();
        self.buf.extend_from_slice(read);
    }

    /// Acts on one whole frame: a message when it completes one.
    fn frame(
        &mut self,
        head: FrameHead,
        payload: Vec<u8>,
    ) -> Result<Option<Inbound>, InboundError> {
        if head.opcode == OpCode::Close {
            // Whatever it holds, the peer has said its last word: no need to wait for one.
            self.peer_closed = true;
        }
        match head.opcode {
            OpCode::Binary | OpCode::Text => {
                let text = head.opcode == OpCode::Text;
                if text && !self.text {
                    return Err(InboundError::Text);
                }
                if self.partial.is_some() {
                    return Err(InboundError::Protocol(
                        "new message before the fragmented one finished".into(),
                    ));
                }
                if head.fin {
                    return message(payload, text).map(Some);
                }
                self.partial = Some((payload, text));
                Ok(None)
            }
            OpCode::Continuation => {
                let Some((buf, _)) = self.partial.as_mut() else {
                    return Err(InboundError::Protocol(
                        "continuation without a start".into(),
                    ));
                };
                if buf.len() + payload.len() > self.max {
                    return Err(InboundError::TooLarge(self.max));
                }
                buf.extend_from_slice(&payload);
                if head.fin
                    && let Some((whole, text)) = self.partial.take()
                {
                    return message(whole, text).map(Some);
                }
                Ok(None)
            }
            OpCode::Close => {
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
                Ok(Some(Inbound::Close { code, reason }))
            }
            OpCode::Ping => Ok(Some(Inbound::Ping(payload))),
            OpCode::Pong => Ok(Some(Inbound::Pong)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::io;

    /// A client frame: `first` byte (FIN and opcode), masked with a fixed key.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut f = vec![first];
        match payload.len() {
            n @ 0..=125 => f.push(0x80 | n as u8),
            n => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        f.extend_from_slice(&mask);
        f.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        f
    }

    /// A stream that hands out its chunks one per read, reporting "nothing yet" between them,
    /// then ends.
    struct Trickle {
        chunks: VecDeque<Vec<u8>>,
        paused: bool,
    }

    impl Trickle {
        fn new(bytes: &[u8], chunk: usize) -> Trickle {
            Trickle {
                chunks: bytes.chunks(chunk).map(<[u8]>::to_vec).collect(),
                paused: false,
            }
        }
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.paused = !self.paused;
            if self.paused {
                return Poll::Pending;
            }
            if let Some(chunk) = self.chunks.pop_front() {
                buf.put_slice(&chunk);
            }
            Poll::Ready(Ok(()))
        }
    }

    impl ReadNow for Trickle {
        fn read_now(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.paused = !self.paused;
            if self.paused {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let Some(chunk) = self.chunks.pop_front() else {
                return Ok(0);
            };
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(chunk.len())
        }
    }

    #[test]
    fn messages_torn_anywhere_arrive_whole_and_in_order() {
        let big: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let bytes = [
            frame(0x82, b"first"),
            frame(0x89, b"ping"),
            frame(0x02, &big[..100]),
            frame(0x80, &big[100..]),
            frame(0x82, b""),
            frame(0x88, &[0x03, 0xe8, b'o', b'k']),
        ]
        .concat();
        for chunk in [1, 2, 3, 7, 64, bytes.len()] {
            let mut reader = InboundReader::new(Trickle::new(&bytes, chunk), 4096, false);
            let mut seen = Vec::new();
            // Bounded: every other read of the trickle hands over a chunk.
            for _ in 0..4 * bytes.len() {
                match reader.try_next() {
                    None => continue,
                    Some(Ok(Inbound::Close { code, reason })) => {
                        seen.push(format!("close {code} {reason}"));
                        break;
                    }
                    Some(Ok(Inbound::Binary(b))) => seen.push(format!("binary {}", b.len())),
                    Some(Ok(other)) => seen.push(format!("{other:?}")),
                    Some(Err(e)) => panic!("chunks of {chunk}: {e}"),
                }
            }
            assert_eq!(
                seen,
                [
                    "binary 5",
                    "Ping([112, 105, 110, 103])",
                    "binary 300",
                    "binary 0",
                    "close 1000 ok"
                ],
                "chunks of {chunk}"
            );
            assert!(reader.peer_closed());
            assert_eq!(reader.buf.capacity(), 0, "nothing held between frames");
        }
    }

    #[tokio::test]
    async fn refuses_what_the_protocol_forbids() {
        async fn first_error(bytes: Vec<u8>, text: bool) -> InboundError {
            let mut reader = InboundReader::new(&bytes[..], 64, text);
            loop {
                match reader.next().await {
                    Ok(_) => continue,
                    Err(e) => return e,
                }
            }
        }
        let oversized = frame(0x82, &[0; 65]);
        assert!(matches!(
            first_error(oversized, false).await,
            InboundError::TooLarge(64)
        ));
        let fragments = [frame(0x02, &[0; 40]), frame(0x80, &[0; 40])].concat();
        assert!(matches!(
            first_error(fragments, false).await,
            InboundError::TooLarge(64)
        ));
        assert!(matches!(
            first_error(frame(0x81, b"hi"), false).await,
            InboundError::Text
        ));
        assert!(matches!(
            first_error(frame(0x81, &[0xff, 0xfe]), true).await,
            InboundError::InvalidUtf8
        ));
        assert!(matches!(
            first_error(frame(0x80, b"x"), false).await,
            InboundError::Protocol(_)
        ));
        let interleaved = [frame(0x02, b"a"), frame(0x82, b"b")].concat();
        assert!(matches!(
            first_error(interleaved, false).await,
            InboundError::Protocol(_)
        ));
        assert!(matches!(
            first_error(frame(0x88, &[0x03, 0xed]), false).await,
            InboundError::Protocol(_)
        ));
        let torn = frame(0x82, b"hello")[..5].to_vec();
        assert!(matches!(
            first_error(torn, false).await,
            InboundError::Gone(_)
        ));
    }
}
