//! A stream that hands the WebSocket reader whole frames only.
//!
//! fastwebsockets consumes a frame's header before it waits for the payload, so a read that is
//! dropped while it waits loses the header. The match's tick reads each client without blocking
//! and drops the read when nothing more has arrived; behind this gate that can only happen
//! between frames. A frame whose header declares more than the reader takes is handed on at its
//! header, so the reader refuses it at once instead of this buffering it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::io::poll_read_buf;

/// Bytes made room for per read: a tick's inputs from one client are a few dozen.
const READ_CHUNK: usize = 2048;

pub(crate) struct WholeFrames<S> {
    inner: S,
    /// Read but not yet handed on; the first `whole` bytes are whole frames (or the header of a
    /// frame the reader will refuse).
    buf: BytesMut,
    whole: usize,
    /// The largest payload the reader takes.
    max_payload: usize,
    eof: bool,
}

impl<S> WholeFrames<S> {
    pub(crate) fn new(inner: S, max_payload: usize) -> WholeFrames<S> {
        WholeFrames {
            inner,
            buf: BytesMut::new(),
            whole: 0,
            max_payload,
            eof: false,
        }
    }
}

/// How many bytes at the start of `bytes` are whole frames, counting a frame that declares more
/// than `max_payload` as whole at its header.
pub(crate) fn whole_prefix(bytes: &[u8], max_payload: usize) -> usize {
    let mut at = 0usize;
    loop {
        let Some(&[_, second]) = bytes.get(at..at + 2) else {
            return at;
        };
        let extra = match second & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let head = 2 + extra + if second & 0x80 != 0 { 4 } else { 0 };
        let Some(ext) = bytes.get(at + 2..at + 2 + extra) else {
            return at;
        };
        let declared = match extra {
            0 => u64::from(second & 0x7f),
            _ => ext.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)),
        };
        if at + head > bytes.len() {
            return at;
        }
        let payload = match usize::try_from(declared) {
            Ok(n) if n <= max_payload => n,
            // The reader refuses this frame from its header alone.
            _ => return at + head,
        };
        if at + head + payload > bytes.len() {
            return at;
        }
        at += head + payload;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WholeFrames<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.whole > 0 {
                let n = this.whole.min(out.remaining());
                out.put_slice(&this.buf[..n]);
                this.buf.advance(n);
                this.whole -= n;
                if this.buf.is_empty() {
                    // Most reads leave nothing behind: thousands of idle connections should not
                    // each keep a read buffer.
                    this.buf = BytesMut::new();
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                // The reader sees the end (after a torn frame, an unexpected one).
                return Poll::Ready(Ok(()));
            }
            this.buf.reserve(READ_CHUNK);
            // Into the buffer's uninitialised space: zeroing it first would cost a memset.
            let n = ready!(poll_read_buf(Pin::new(&mut this.inner), cx, &mut this.buf))?;
            if n == 0 {
                this.eof = true;
                continue;
            }
            this.whole = whole_prefix(&this.buf, this.max_payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tokio::io::AsyncReadExt;

    /// A client frame: FIN, binary, masked with a zero key, `len` payload bytes.
    fn frame(len: usize) -> Vec<u8> {
        let mut f = vec![0x82];
        match len {
            0..=125 => f.push(0x80 | len as u8),
            126..=65535 => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend(std::iter::repeat_n(7u8, len));
        f
    }

    #[test]
    fn counts_only_whole_frames() {
        let (a, b) = (frame(3), frame(300));
        let both: Vec<u8> = a.iter().chain(&b).copied().collect();
        assert_eq!(whole_prefix(&both, 4096), both.len());
        for cut in 0..both.len() {
            let want = if cut < a.len() { 0 } else { a.len() };
            assert_eq!(whole_prefix(&both[..cut], 4096), want, "cut at {cut}");
        }
    }

    #[test]
    fn an_oversized_frame_is_handed_on_at_its_header() {
        let big = frame(70_000);
        assert_eq!(whole_prefix(&big[..20], 4096), 14, "2 + 8 length + 4 mask");
        let mut absurd = vec![0x82, 0x80 | 127];
        absurd.extend_from_slice(&u64::MAX.to_be_bytes());
        absurd.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(whole_prefix(&absurd, 4096), 14);
        assert_eq!(
            whole_prefix(&absurd[..13], 4096),
            0,
            "not even the header yet"
        );
    }

    proptest! {
        /// Whatever the bytes, the prefix lies within them and never splits a frame the reader
        /// would wait on.
        #[test]
        fn the_prefix_stays_within_the_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let n = whole_prefix(&bytes, 16);
            prop_assert!(n <= bytes.len());
        }
    }

    /// A stream that hands out its bytes a few at a time, then reports nothing more for now.
    struct Trickle {
        chunks: std::collections::VecDeque<Vec<u8>>,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            match self.chunks.pop_front() {
                Some(chunk) => {
                    buf.put_slice(&chunk);
                    Poll::Ready(Ok(()))
                }
                None => Poll::Pending,
            }
        }
    }

    #[tokio::test]
    async fn a_torn_frame_is_held_back_until_it_is_whole() {
        let bytes = [frame(5), frame(200)].concat();
        let chunks = bytes.chunks(7).map(<[u8]>::to_vec).collect();
        let mut gate = WholeFrames::new(Trickle { chunks }, 4096);
        let mut seen = Vec::new();
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut buf = [0u8; 64];
        // Everything is handed on eventually, and every pause falls on a frame boundary.
        for _ in 0..200 {
            let mut read = ReadBuf::new(&mut buf);
            match Pin::new(&mut gate).poll_read(&mut cx, &mut read) {
                Poll::Ready(r) => {
                    r.expect("read");
                    seen.extend_from_slice(read.filled());
                }
                Poll::Pending => {
                    assert_eq!(whole_prefix(&seen, 4096), seen.len(), "paused mid-frame");
                    if seen.len() == bytes.len() {
                        break;
                    }
                }
            }
        }
        assert_eq!(seen, bytes);
        let mut rest = Vec::new();
        let mut ended = WholeFrames::new(&b"\x82\x85"[..], 4096);
        ended.read_to_end(&mut rest).await.expect("read to the end");
        assert_eq!(rest, b"", "a frame torn by the end is not handed on");
    }
}
