//! A plain TCP connection shared between its session (which reads `Hello` and pumps writes a
//! full socket would not take) and the match's tick (which reads inputs and writes each
//! snapshot straight into the socket, without blocking). No lock is taken: one side reads at a
//! time (the session hands the reader over), and every write goes through the connection's
//! outbox, which orders them. The socket is outside the reactor ([`Sock`]); the session's side
//! registers it only while it waits.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::sock::{Sock, Watch};

/// The TCP socket under a plain (not TLS) upgraded connection, with what hyper had already read
/// past the upgrade request.
#[derive(Debug)]
pub(crate) struct SharedTcp {
    sock: Arc<Sock>,
    read_ahead: ReadAhead,
    /// Held while this side waits on the socket.
    watch: Option<Watch>,
}

impl Clone for SharedTcp {
    fn clone(&self) -> SharedTcp {
        SharedTcp {
            sock: self.sock.clone(),
            read_ahead: self.read_ahead.clone(),
            watch: None,
        }
    }
}

/// What hyper read past the upgrade request, handed over before anything from the socket. Kept
/// in an allocation of its own: hyper's view into its connection's read buffer (8 KiB or more)
/// would otherwise keep that buffer alive as long as the socket, even once empty.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadAhead(Bytes);

impl ReadAhead {
    pub(crate) fn new(from_hyper: &Bytes) -> ReadAhead {
        ReadAhead(Bytes::copy_from_slice(from_hyper))
    }

    /// Copies the next of it into `buf`; `None` once it is all gone.
    pub(crate) fn take(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.0.is_empty() {
            return None;
        }
        let n = self.0.len().min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0.advance(n);
        if self.0.is_empty() {
            self.0 = Bytes::new();
        }
        Some(n)
    }
}

impl SharedTcp {
    /// The socket under `upgraded`, if it is a plain TCP connection; `Err` gives it back
    /// otherwise (TLS, or a transport this server does not know).
    pub(crate) fn from_upgraded(upgraded: Upgraded) -> Result<io::Result<SharedTcp>, Upgraded> {
        let parts = upgraded.downcast::<TokioIo<TcpStream>>()?;
        Ok(Sock::new(parts.io.into_inner()).map(|sock| SharedTcp {
            sock: Arc::new(sock),
            read_ahead: ReadAhead::new(&parts.read_buf),
            watch: None,
        }))
    }

    pub(crate) fn socket(&self) -> Arc<Sock> {
        self.sock.clone()
    }

    /// Reads what has arrived, without waiting or registering for a wake-up (the tick's read):
    /// `WouldBlock` if nothing has.
    pub(crate) fn read_now(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(n) = self.read_ahead.take(buf) {
            return Ok(n);
        }
        // Nobody waits on this side any more.
        self.watch = None;
        self.sock.try_read(buf)
    }
}

impl AsyncRead for SharedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(n) = this.read_ahead.take(buf.initialize_unfilled()) {
            buf.advance(n);
            return Poll::Ready(Ok(()));
        }
        let watch = match &mut this.watch {
            Some(watch) => watch,
            None => this.watch.insert(this.sock.watch()?),
        };
        loop {
            ready!(watch.poll_read_ready(cx))?;
            // Into the buffer's uninitialised space: zeroing it first cost a memset per read.
            match watch.try_read_buf(buf) {
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
        let this = self.get_mut();
        let watch = match &mut this.watch {
            Some(watch) => watch,
            None => match this.sock.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    this.watch.insert(this.sock.watch()?)
                }
                other => return Poll::Ready(other),
            },
        };
        loop {
            ready!(watch.poll_write_ready(cx))?;
            match watch.try_write(buf) {
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
