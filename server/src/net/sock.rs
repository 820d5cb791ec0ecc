//! A realtime connection's TCP socket, outside tokio's reactor.
//!
//! Once a player is seated, the match's tick reads and writes the socket itself, without
//! blocking, every tick; nobody waits on it. Registered with the reactor, every input a client
//! sends would still wake a runtime thread (an epoll event, then nothing to run): with a
//! thousand clients that was thirty thousand wake-ups a second, about a seventh of the server's
//! CPU. So the socket stays unregistered, and a task that does have to wait (for `Hello`, for a
//! backed-up socket to drain, for the client's close) takes a [`Watch`]: a registration of a
//! duplicate of the socket, dropped when the wait is over.

use std::io::{self, Read, Write};

use tokio::net::TcpStream;

#[derive(Debug)]
pub(crate) struct Sock {
    tcp: std::net::TcpStream,
}

/// A registration of a [`Sock`] with tokio's reactor, for as long as a task waits on it. Reads
/// and writes while it is held go through it, so its readiness stays true to the socket.
pub(crate) type Watch = TcpStream;

impl Sock {
    /// Takes `tcp` out of the reactor (it stays non-blocking).
    pub(crate) fn new(tcp: TcpStream) -> io::Result<Sock> {
        Ok(Sock {
            tcp: tcp.into_std()?,
        })
    }

    /// Registers a duplicate of the socket with the reactor. Must be called within the runtime.
    pub(crate) fn watch(&self) -> io::Result<Watch> {
        TcpStream::from_std(self.tcp.try_clone()?)
    }

    /// Reads what has arrived; `WouldBlock` if nothing has.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.tcp).read(buf)
    }

    /// Writes what the socket takes now; `WouldBlock` if it takes nothing.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        (&self.tcp).write(buf)
    }
}

/// `std::io` over a socket that never blocks: through its watch when a task holds one, directly
/// otherwise. `WouldBlock` when it would.
pub(crate) struct NonBlocking<'a>(pub(crate) &'a Sock, pub(crate) Option<&'a Watch>);

impl Read for NonBlocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.1 {
            Some(watch) => watch.try_read(buf),
            None => self.0.try_read(buf),
        }
    }
}

impl Write for NonBlocking<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.1 {
            Some(watch) => watch.try_write(buf),
            None => self.0.try_write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn reads_without_the_reactor_and_waits_with_a_watch() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let mut client = client.expect("connect");
        let sock = Sock::new(accepted.expect("accept").0).expect("unregister");

        let mut buf = [0u8; 16];
        let nothing = sock.try_read(&mut buf).expect_err("nothing sent yet");
        assert_eq!(nothing.kind(), io::ErrorKind::WouldBlock);

        // A wait that starts before the bytes arrive still sees them.
        let waiter = async {
            let watch = sock.watch().expect("watch");
            watch.readable().await.expect("readable");
            NonBlocking(&sock, Some(&watch)).read(&mut buf)
        };
        let (read, sent) = tokio::join!(waiter, client.write_all(b"hello"));
        sent.expect("send");
        assert_eq!(read.expect("read"), 5);
        assert_eq!(&buf[..5], b"hello");

        // With the watch gone, the socket is written and read directly.
        assert_eq!(sock.try_write(b"back").expect("write"), 4);
        let mut back = [0u8; 4];
        client.read_exact(&mut back).await.expect("read back");
        assert_eq!(&back, b"back");
        client.write_all(b"x").await.expect("send");
        let watch = sock.watch().expect("watch again");
        watch.readable().await.expect("readable");
        drop(watch);
        assert_eq!(sock.try_read(&mut buf).expect("read"), 1);
    }
}
