//! A TLS connection taken apart so the tick can write into it as it writes a plain socket:
//! rustls encrypts each frame into a buffer under the connection's lock, and the bytes go out
//! with the same non-blocking write (see `matches::outbox::direct`). The session reads through
//! [`TlsRead`], which decrypts under the same lock.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use rustls::ServerConnection;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::sock::{NonBlocking, Sock, Watch};
use super::tcp::ReadAhead;

/// The most decrypted bytes one read hands over.
const READ_CHUNK: usize = 4096;

/// The TCP socket (outside the reactor, see [`Sock`]) and the rustls connection over it.
#[derive(Debug)]
pub(crate) struct TlsSocket {
    sock: Sock,
    conn: Mutex<ServerConnection>,
}

impl TlsSocket {
    /// The TLS connection under `upgraded`, with what hyper read past the upgrade request;
    /// `Err` gives it back if it is not one.
    pub(crate) fn from_upgraded(
        upgraded: Upgraded,
    ) -> Result<io::Result<(Arc<TlsSocket>, ReadAhead)>, Upgraded> {
        let parts = upgraded.downcast::<TokioIo<TlsStream<TcpStream>>>()?;
        let (tcp, mut conn) = parts.io.into_inner().into_inner();
        // Frames are encrypted whole, whatever their size; what the socket does not take is
        // bounded by the outbox.
        conn.set_buffer_limit(None);
        Ok(Sock::new(tcp).map(|sock| {
            (
                Arc::new(TlsSocket {
                    sock,
                    conn: Mutex::new(conn),
                }),
                ReadAhead::new(&parts.read_buf),
            )
        }))
    }

    pub(crate) fn sock(&self) -> &Sock {
        &self.sock
    }

    fn conn(&self) -> MutexGuard<'_, ServerConnection> {
        // Held for one encrypt or decrypt step, never across an await.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Encrypts `plain` and appends the TLS records to `out`, with anything rustls had waiting
    /// to send (an alert, a key update answer) before them.
    pub(crate) fn encrypt(&self, plain: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let mut conn = self.conn();
        conn.writer().write_all(plain)?;
        while conn.wants_write() {
            conn.write_tls(out)?;
        }
        Ok(())
    }
}

/// The session's reading side of a [`TlsSocket`]: decrypted bytes, after what hyper had read.
#[derive(Debug)]
pub(crate) struct TlsRead {
    socket: Arc<TlsSocket>,
    read_ahead: ReadAhead,
    /// Held while the session waits on the socket.
    watch: Option<Watch>,
}

impl TlsRead {
    pub(crate) fn new(socket: Arc<TlsSocket>, read_ahead: ReadAhead) -> TlsRead {
        TlsRead {
            socket,
            read_ahead,
            watch: None,
        }
    }

    /// Decrypts into `buf` what has arrived (0: the peer's close_notify, an orderly end);
    /// `WouldBlock` once the socket has nothing more.
    fn read_step(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(n) = self.read_ahead.take(buf) {
            return Ok(n);
        }
        let mut conn = self.socket.conn();
        loop {
            match conn.reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                other => return other,
            }
            // End of the TCP stream (Ok(0)): the reader answers for it on the next turn (an
            // orderly close, or an unexpected end without close_notify).
            conn.read_tls(&mut NonBlocking(&self.socket.sock, self.watch.as_ref()))?;
            if let Err(e) = conn.process_new_packets() {
                // rustls queued an alert; try to send it, then give up on the connection.
                let _ = conn.write_tls(&mut NonBlocking(&self.socket.sock, self.watch.as_ref()));
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
    }

    /// Reads what has arrived, without waiting or registering for a wake-up (the tick's read):
    /// `WouldBlock` if nothing has.
    pub(crate) fn read_now(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Nobody waits on this side any more.
        self.watch = None;
        self.read_step(buf)
    }
}

impl AsyncRead for TlsRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            // rustls reads into initialised memory only; inputs are small, so zero a little.
            let want = buf.remaining().min(READ_CHUNK);
            match this.read_step(buf.initialize_unfilled_to(want)) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            let watch = match &mut this.watch {
                Some(watch) => watch,
                None => this.watch.insert(this.socket.sock.watch()?),
            };
            ready!(watch.poll_read_ready(cx))?;
        }
    }
}

/// The writing side of a [`TlsSocket`], for what a session sends before a match takes over the
/// socket (a refusal).
#[derive(Debug)]
pub(crate) struct TlsWrite {
    socket: Arc<TlsSocket>,
    watch: Option<Watch>,
}

impl TlsWrite {
    pub(crate) fn new(socket: Arc<TlsSocket>) -> TlsWrite {
        TlsWrite {
            socket,
            watch: None,
        }
    }
}

impl AsyncWrite for TlsWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // rustls takes it all (no buffer limit is set); `poll_flush` sends it.
        Poll::Ready(self.socket.conn().writer().write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            {
                let mut conn = this.socket.conn();
                if !conn.wants_write() {
                    return Poll::Ready(Ok(()));
                }
                match conn.write_tls(&mut NonBlocking(&this.socket.sock, this.watch.as_ref())) {
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            let watch = match &mut this.watch {
                Some(watch) => watch,
                None => this.watch.insert(this.socket.sock.watch()?),
            };
            ready!(watch.poll_write_ready(cx))?;
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
