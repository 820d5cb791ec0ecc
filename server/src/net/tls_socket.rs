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

/// The most decrypted bytes one read hands over.
const READ_CHUNK: usize = 4096;

/// The TCP socket and the rustls connection over it.
#[derive(Debug)]
pub(crate) struct TlsSocket {
    tcp: TcpStream,
    conn: Mutex<ServerConnection>,
}

/// `std::io` over a tokio socket that never blocks: `WouldBlock` when it would.
struct NonBlocking<'a>(&'a TcpStream);

impl Read for NonBlocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for NonBlocking<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TlsSocket {
    /// The TLS connection under `upgraded`, with what hyper read past the upgrade request;
    /// `Err` gives it back if it is not one.
    pub(crate) fn from_upgraded(
        upgraded: Upgraded,
    ) -> Result<(Arc<TlsSocket>, bytes::Bytes), Upgraded> {
        let parts = upgraded.downcast::<TokioIo<TlsStream<TcpStream>>>()?;
        let (tcp, mut conn) = parts.io.into_inner().into_inner();
        // Frames are encrypted whole, whatever their size; what the socket does not take is
        // bounded by the outbox.
        conn.set_buffer_limit(None);
        Ok((
            Arc::new(TlsSocket {
                tcp,
                conn: Mutex::new(conn),
            }),
            super::tcp::own_bytes(parts.read_buf),
        ))
    }

    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.tcp
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
    read_ahead: bytes::Bytes,
}

impl TlsRead {
    pub(crate) fn new(socket: Arc<TlsSocket>, read_ahead: bytes::Bytes) -> TlsRead {
        TlsRead { socket, read_ahead }
    }
}

impl AsyncRead for TlsRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        use bytes::Buf;
        let this = self.get_mut();
        if !this.read_ahead.is_empty() {
            let n = this.read_ahead.len().min(buf.remaining());
            buf.put_slice(&this.read_ahead[..n]);
            this.read_ahead.advance(n);
            if this.read_ahead.is_empty() {
                this.read_ahead = bytes::Bytes::new();
            }
            return Poll::Ready(Ok(()));
        }
        loop {
            {
                let mut conn = this.socket.conn();
                // rustls reads into initialised memory only; inputs are small, so zero a little.
                let want = buf.remaining().min(READ_CHUNK);
                match conn.reader().read(buf.initialize_unfilled_to(want)) {
                    Ok(n) => {
                        // 0: the peer's close_notify, an orderly end.
                        buf.advance(n);
                        return Poll::Ready(Ok(()));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            ready!(this.socket.tcp.poll_read_ready(cx))?;
            let mut conn = this.socket.conn();
            match conn.read_tls(&mut NonBlocking(&this.socket.tcp)) {
                // End of the TCP stream: the reader answers for it on the next turn (an
                // orderly close, or an unexpected end without close_notify).
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
            if let Err(e) = conn.process_new_packets() {
                // rustls queued an alert; try to send it, then give up on the connection.
                let _ = conn.write_tls(&mut NonBlocking(&this.socket.tcp));
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
            }
        }
    }
}

/// The writing side of a [`TlsSocket`], for what a session sends before a match takes over the
/// socket (a refusal).
#[derive(Debug)]
pub(crate) struct TlsWrite {
    socket: Arc<TlsSocket>,
}

impl TlsWrite {
    pub(crate) fn new(socket: Arc<TlsSocket>) -> TlsWrite {
        TlsWrite { socket }
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
        loop {
            {
                let mut conn = self.socket.conn();
                if !conn.wants_write() {
                    return Poll::Ready(Ok(()));
                }
                match conn.write_tls(&mut NonBlocking(&self.socket.tcp)) {
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            ready!(self.socket.tcp.poll_write_ready(cx))?;
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
