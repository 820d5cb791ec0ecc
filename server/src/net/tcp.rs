//! A plain TCP connection shared between its session (which reads `Hello` and pumps writes a
//! full socket would not take) and the match's tick (which reads inputs and writes each
//! snapshot straight into the socket, without blocking). Readiness comes from tokio's reactor;
//! no lock is taken: one side reads at a time (the session hands the reader over), and every
//! write goes through the connection's outbox, which orders them.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The TCP socket under a plain (not TLS) upgraded connection, with what hyper had already read
/// past the upgrade request.
#[derive(Debug, Clone)]
pub(crate) struct SharedTcp {
    tcp: Arc<TcpStream>,
    read_ahead: Bytes,
}

impl SharedTcp {
    /// The socket under `upgraded`, if it is a plain TCP connection; `Err` gives it back
    /// otherwise (TLS, or a transport this server does not know).
    pub(crate) fn from_upgraded(upgraded: Upgraded) -> Result<SharedTcp, Upgraded> {
        let parts = upgraded.downcast::<TokioIo<TcpStream>>()?;
        Ok(SharedTcp {
            tcp: Arc::new(parts.io.into_inner()),
            read_ahead: own_bytes(parts.read_buf),
        })
    }

    pub(crate) fn socket(&self) -> Arc<TcpStream> {
        self.tcp.clone()
    }
}

/// `bytes` in an allocation of their own. What hyper read past a request is a view into its
/// connection's read buffer (8 KiB or more), which would otherwise live as long as the socket,
/// even when the view is empty.
pub(crate) fn own_bytes(bytes: Bytes) -> Bytes {
    Bytes::copy_from_slice(&bytes)
}

impl AsyncRead for SharedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.read_ahead.is_empty() {
            let n = this.read_ahead.len().min(buf.remaining());
            buf.put_slice(&this.read_ahead[..n]);
            this.read_ahead.advance(n);
            if this.read_ahead.is_empty() {
                this.read_ahead = Bytes::new();
            }
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(this.tcp.poll_read_ready(cx))?;
            // Into the buffer's uninitialised space: zeroing it first cost a memset per read.
            match this.tcp.try_read_buf(buf) {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let tcp = &self.tcp;
        loop {
            ready!(tcp.poll_write_ready(cx))?;
            match tcp.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The session drops its halves to close; a half-close would race the tick's writes.
        Poll::Ready(Ok(()))
    }
}
