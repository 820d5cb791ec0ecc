//! A WebSocket client connection to the realtime endpoint, over `ws://` or `wss://`: bytes in
//! and out of [`shared::codec`], nothing about sessions or the game.
//!
//! Call order: [`Connection::connect`], then either use the connection from one task
//! ([`Connection::send`], [`Connection::recv`]) or [`Connection::split`] it into a
//! [`ConnReader`] and a [`ConnWriter`] for two tasks.
//!
//! # Design
//!
//! - TCP with `TCP_NODELAY`; TLS through [`crate::tls`] (ring provider; `insecure` accepts the
//!   server's self-signed development certificate); the upgrade is fastwebsockets' client
//!   handshake over hyper.
//! - Writes go into a buffer: [`ConnWriter::queue`] only buffers, [`ConnWriter::flush`] pushes
//!   the batch out in as few writes as the buffer allows, and every other send flushes.
//! - The write half sits behind a `tokio::sync::Mutex` shared by the writer and the reader. The
//!   reader must answer WebSocket pings and echo the server's close frame (fastwebsockets hands
//!   those "obligated sends" to a closure in split mode); it writes them itself through the shared
//!   write half, so pings are answered even when no task is sending. The cost is that a pong can
//!   wait behind a send in progress. A tokio mutex, not std's, because the lock is held across
//!   the awaited socket write.
//! - Reads reassemble fragmented messages ([`FragmentCollectorRead`]); a single frame may not
//!   exceed [`MAX_SERVER_MESSAGE`].
//! - A connection that ends without a close frame (EOF, reset) is reported as
//!   [`Received::Closed`] with code 1006, as browsers do.
//! - [`ConnReader::recv`] is not cancel safe: a read dropped half way loses the frame in flight
//!   and the stream with it. Run it in its own task (as [`crate::session`] does) rather than in a
//!   `select!` branch.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use fastwebsockets::{
    FragmentCollectorRead, Frame, OpCode, Payload, WebSocket, WebSocketError, WebSocketWrite,
};
use http_body_util::Empty;
use hyper::Request;
use hyper::Uri;
use hyper::header::{CONNECTION, HOST, UPGRADE};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadHalf, WriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;

use shared::codec::{self, MAX_SERVER_MESSAGE};
use shared::{ClientMessage, CodecError, ServerMessage};

use crate::tls::{self, TlsError};

/// How long [`Connection::connect`] may take: TCP, TLS and the upgrade together.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The write buffer of a connection: a client's batch (an input and a ping) is tens of bytes,
/// and a bot keeps thousands of connections, so a small one. Larger frames bypass it.
const WRITE_BUFFER: usize = 2048;

/// The close code reported for a close frame without a code (RFC 6455 §7.1.5).
pub const NO_STATUS_RECEIVED: u16 = 1005;
/// The close code reported when the connection ended without a close frame.
pub const ABNORMAL_CLOSURE: u16 = 1006;
/// The close code reported for a close frame too short to hold a code.
pub const PROTOCOL_ERROR: u16 = 1002;

type Io = TokioIo<Upgraded>;
type ReadStream = ReadHalf<Io>;
type WriteStream = BufWriter<WriteHalf<Io>>;

/// What [`ConnReader::recv`] gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Message(ServerMessage),
    /// The server closed the connection (or it was lost: code 1006). Later reads fail with
    /// [`ConnError::Closed`].
    Closed {
        code: u16,
        reason: String,
    },
}

/// Frames and payload bytes that went one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Traffic {
    pub frames: u64,
    pub bytes: u64,
}

/// Why connecting, sending or receiving failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("invalid WebSocket URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: &'static str },
    #[error("connecting took longer than {0:?}")]
    Timeout(Duration),
    #[error("TCP connect: {0}")]
    Connect(#[source] std::io::Error),
    #[error(transparent)]
    TlsConfig(#[from] TlsError),
    #[error("TLS handshake: {0}")]
    Tls(#[source] std::io::Error),
    #[error("the server answered the WebSocket upgrade with HTTP status {status}")]
    Rejected { status: u16 },
    #[error("WebSocket upgrade: {0}")]
    Handshake(#[source] WebSocketError),
    #[error("WebSocket: {0}")]
    WebSocket(#[from] WebSocketError),
    #[error("undecodable server message: {0}")]
    Decode(#[from] CodecError),
    #[error("the server sent a text frame; the protocol is binary")]
    UnexpectedText,
    #[error("the connection is closed")]
    Closed,
}

impl ConnError {
    /// False for errors about one frame, after which the connection can still be read.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, ConnError::Decode(_) | ConnError::UnexpectedText)
    }
}

/// How to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Accept any server certificate (the server's self-signed development certificate).
    pub insecure: bool,
    /// Limit on TCP connect, TLS handshake and WebSocket upgrade together.
    pub timeout: Duration,
    /// The socket's kernel receive buffer in bytes (`None`: the kernel's autotuning). A small
    /// one makes a client that stops reading push back on the server within a second, as a
    /// phone on a poor link would.
    pub recv_buffer: Option<u32>,
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions {
            insecure: false,
            timeout: DEFAULT_CONNECT_TIMEOUT,
            recv_buffer: None,
        }
    }
}

/// An open WebSocket connection, usable from one task; [`Connection::split`] it for two.
pub struct Connection {
    reader: ConnReader,
    writer: ConnWriter,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Connection {
    /// Connects to `url` (`ws://` or `wss://`; `http(s)://` are taken as the same) within
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub async fn connect(url: &str, insecure: bool) -> Result<Connection, ConnError> {
        Connection::connect_with(
            url,
            ConnectOptions {
                insecure,
                ..ConnectOptions::default()
            },
        )
        .await
    }

    /// Connects to `url` with explicit options.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Connection, ConnError> {
        let target = Target::parse(url)?;
        tokio::time::timeout(options.timeout, open(&target, options))
            .await
            .map_err(|_| ConnError::Timeout(options.timeout))?
    }

    /// The two halves, for a reading task and a writing task.
    pub fn split(self) -> (ConnReader, ConnWriter) {
        (self.reader, self.writer)
    }

    /// The write half; it can be cloned and kept while this connection is used for reading.
    pub fn writer(&self) -> &ConnWriter {
        &self.writer
    }

    /// See [`ConnReader::recv`].
    pub async fn recv(&mut self) -> Result<Received, ConnError> {
        self.reader.recv().await
    }

    /// See [`ConnWriter::send`].
    pub async fn send(&self, msg: &ClientMessage) -> Result<(), ConnError> {
        self.writer.send(msg).await
    }

    /// See [`ConnWriter::queue`].
    pub async fn queue(&self, msg: &ClientMessage) -> Result<(), ConnError> {
        self.writer.queue(msg).await
    }

    /// See [`ConnWriter::flush`].
    pub async fn flush(&self) -> Result<(), ConnError> {
        self.writer.flush().await
    }

    /// See [`ConnWriter::send_raw_binary`].
    pub async fn send_raw_binary(&self, bytes: &[u8]) -> Result<(), ConnError> {
        self.writer.send_raw_binary(bytes).await
    }

    /// See [`ConnWriter::send_text`].
    pub async fn send_text(&self, text: &str) -> Result<(), ConnError> {
        self.writer.send_text(text).await
    }

    /// See [`ConnWriter::close`].
    pub async fn close(&self, code: u16, reason: &str) -> Result<(), ConnError> {
        self.writer.close(code, reason).await
    }
}

/// The read half. Answers pings and echoes the close frame through the shared write half.
pub struct ConnReader {
    ws: FragmentCollectorRead<ReadStream>,
    writer: ConnWriter,
    received: Arc<TrafficMeter>,
    closed: bool,
}

impl fmt::Debug for ConnReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnReader")
            .field("closed", &self.closed)
            .field("received", &self.received())
            .finish_non_exhaustive()
    }
}

impl ConnReader {
    /// The next server message, or the close. Skips pings (answered), pongs and fragments
    /// (reassembled). Not cancel safe (see the module docs).
    pub async fn recv(&mut self) -> Result<Received, ConnError> {
        if self.closed {
            return Err(ConnError::Closed);
        }
        let writer = self.writer.clone();
        let mut obligated = move |frame: Frame<'static>| {
            let writer = writer.clone();
            async move {
                writer.write_obligated(frame).await;
                Ok::<(), Infallible>(())
            }
        };
        loop {
            let frame = match self.ws.read_frame(&mut obligated).await {
                Ok(frame) => frame,
                Err(e) if is_connection_lost(&e) => {
                    self.closed = true;
                    return Ok(Received::Closed {
                        code: ABNORMAL_CLOSURE,
                        reason: format!("connection lost: {e}"),
                    });
                }
                Err(e) => return Err(e.into()),
            };
            match frame.opcode {
                OpCode::Binary => {
                    self.received.add(frame.payload.len());
                    let msg = codec::decode_server(&frame.payload)?;
                    return Ok(Received::Message(msg));
                }
                OpCode::Close => {
                    self.closed = true;
                    let (code, reason) = parse_close_payload(&frame.payload);
                    return Ok(Received::Closed { code, reason });
                }
                OpCode::Text => {
                    self.received.add(frame.payload.len());
                    return Err(ConnError::UnexpectedText);
                }
                // Pings are answered inside read_frame; pongs answer pings we never send;
                // continuations are folded into their message by the collector.
                OpCode::Ping | OpCode::Pong | OpCode::Continuation => continue,
            }
        }
    }

    /// Data frames received so far.
    pub fn received(&self) -> Traffic {
        self.received.get()
    }

    /// A handle that reads the same counters as [`ConnReader::received`], for the owner of a
    /// reader that moved into another task.
    pub fn traffic_meter(&self) -> TrafficHandle {
        TrafficHandle(self.received.clone())
    }
}

/// Reads the traffic counters of a [`ConnReader`] from elsewhere.
#[derive(Debug, Clone)]
pub struct TrafficHandle(Arc<TrafficMeter>);

impl TrafficHandle {
    pub fn get(&self) -> Traffic {
        self.0.get()
    }
}

/// The write half. Cheap to clone; every clone writes to the same connection, one frame at a
/// time.
#[derive(Clone)]
pub struct ConnWriter {
    shared: Arc<WriterShared>,
}

struct WriterShared {
    ws: Mutex<WebSocketWrite<WriteStream>>,
    sent: TrafficMeter,
}

impl fmt::Debug for ConnWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnWriter")
            .field("sent", &self.sent())
            .finish_non_exhaustive()
    }
}

impl ConnWriter {
    /// Encodes `msg` into one binary frame and sends it now.
    pub async fn send(&self, msg: &ClientMessage) -> Result<(), ConnError> {
        self.write(binary(codec::encode_client(msg)), true).await
    }

    /// Encodes `msg` into one binary frame in the write buffer; [`ConnWriter::flush`] sends the
    /// batch. (A batch larger than the buffer starts going out before the flush.)
    pub async fn queue(&self, msg: &ClientMessage) -> Result<(), ConnError> {
        self.write(binary(codec::encode_client(msg)), false).await
    }

    /// Sends everything queued.
    pub async fn flush(&self) -> Result<(), ConnError> {
        let mut ws = self.shared.ws.lock().await;
        ws.flush().await?;
        Ok(())
    }

    /// Sends arbitrary bytes as one binary frame (to test how the server takes bad input).
    pub async fn send_raw_binary(&self, bytes: &[u8]) -> Result<(), ConnError> {
        self.write(Frame::binary(Payload::Borrowed(bytes)), true)
            .await
    }

    /// Sends a text frame, which the protocol does not use (to test the server's refusal).
    pub async fn send_text(&self, text: &str) -> Result<(), ConnError> {
        self.write(Frame::text(Payload::Borrowed(text.as_bytes())), true)
            .await
    }

    /// Sends a close frame with `code` and `reason`. The server's answering close frame arrives
    /// through the reader as [`Received::Closed`]; nothing more can be sent after this.
    pub async fn close(&self, code: u16, reason: &str) -> Result<(), ConnError> {
        self.write(Frame::close(code, reason.as_bytes()), true)
            .await
    }

    /// Whether a close frame has been sent (by [`ConnWriter::close`] or as the echo of the
    /// server's).
    pub async fn is_closed(&self) -> bool {
        self.shared.ws.lock().await.is_closed()
    }

    /// Data frames sent so far.
    pub fn sent(&self) -> Traffic {
        self.shared.sent.get()
    }

    async fn write(&self, frame: Frame<'_>, flush: bool) -> Result<(), ConnError> {
        let len = frame.payload.len();
        let data = matches!(frame.opcode, OpCode::Binary | OpCode::Text);
        let mut ws = self.shared.ws.lock().await;
        ws.write_frame(frame).await?;
        if flush {
            ws.flush().await?;
        }
        if data {
            self.shared.sent.add(len);
        }
        Ok(())
    }

    /// A pong or a close echo the reader owes the server. Best effort: if the write side is
    /// already closed or broken, the next send or read reports it.
    async fn write_obligated(&self, frame: Frame<'static>) {
        let mut ws = self.shared.ws.lock().await;
        if ws.is_closed() {
            // We sent our close already; RFC 6455 wants no frame after it.
            return;
        }
        let result = match ws.write_frame(frame).await {
            Ok(()) => ws.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, "could not answer a ping or close frame");
        }
    }
}

/// The code and reason of a close frame's payload: a big-endian code and a UTF-8 reason (read
/// lossily). An empty payload is [`NO_STATUS_RECEIVED`]; a one-byte payload, which cannot hold
/// a code, is [`PROTOCOL_ERROR`].
pub fn parse_close_payload(payload: &[u8]) -> (u16, String) {
    match payload {
        [] => (NO_STATUS_RECEIVED, String::new()),
        [_] => (PROTOCOL_ERROR, "close frame too short for a code".into()),
        [hi, lo, reason @ ..] => (
            u16::from_be_bytes([*hi, *lo]),
            String::from_utf8_lossy(reason).into_owned(),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Frames and bytes counted from any task.
#[derive(Debug, Default)]
struct TrafficMeter {
    frames: AtomicU64,
    bytes: AtomicU64,
}

impl TrafficMeter {
    fn add(&self, len: usize) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
    }

    fn get(&self) -> Traffic {
        Traffic {
            frames: self.frames.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

fn binary(bytes: Vec<u8>) -> Frame<'static> {
    Frame::binary(Payload::Owned(bytes))
}

/// Errors that mean the peer went away without a close frame.
fn is_connection_lost(e: &WebSocketError) -> bool {
    use std::io::ErrorKind;
    match e {
        WebSocketError::UnexpectedEOF => true,
        WebSocketError::IoError(io) => matches!(
            io.kind(),
            ErrorKind::UnexpectedEof
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
        ),
        _ => false,
    }
}

/// Where a WebSocket URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    tls: bool,
    /// The host to connect to, without IPv6 brackets.
    host: String,
    port: u16,
    /// `host[:port]` as written, for the `Host` header.
    authority: String,
    /// Path and query, `/` if absent.
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, ConnError> {
        let invalid = |reason| ConnError::InvalidUrl {
            url: url.to_string(),
            reason,
        };
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        let tls = match uri.scheme_str() {
            Some("ws" | "http") => false,
            Some("wss" | "https") => true,
            Some(_) => return Err(invalid("the scheme is not ws, wss, http or https")),
            None => return Err(invalid("no scheme")),
        };
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in the URL are not supported"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or("/")
            .to_string();
        Ok(Target {
            tls,
            host,
            port,
            authority: authority.as_str().to_string(),
            path,
        })
    }
}

/// TCP, then TLS if asked, then the upgrade.
async fn open(target: &Target, options: ConnectOptions) -> Result<Connection, ConnError> {
    let insecure = options.insecure;
    let tcp = match options.recv_buffer {
        None => TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(ConnError::Connect)?,
        Some(bytes) => connect_with_recv_buffer(target, bytes).await?,
    };
    tcp.set_nodelay(true).map_err(ConnError::Connect)?;
    let request = Request::builder()
        .method("GET")
        .uri(target.path.as_str())
        .header(HOST, target.authority.as_str())
        .header(UPGRADE, "websocket")
        .header(CONNECTION, "upgrade")
        .header(
            "Sec-WebSocket-Key",
            fastwebsockets::handshake::generate_key(),
        )
        .header("Sec-WebSocket-Version", "13")
        .body(Empty::<Bytes>::new())
        .map_err(|_| ConnError::InvalidUrl {
            url: target.authority.clone(),
            reason: "not a valid request target",
        })?;
    let ws = if target.tls {
        let name =
            ServerName::try_from(target.host.clone()).map_err(|_| ConnError::InvalidUrl {
                url: target.authority.clone(),
                reason: "not a valid TLS server name",
            })?;
        let config = tls::client_config(insecure)?;
        let stream = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(ConnError::Tls)?;
        upgrade(request, stream).await?
    } else {
        upgrade(request, tcp).await?
    };
    Ok(Connection::from_websocket(ws))
}

/// A TCP connection whose receive buffer is set before connecting (it bounds the window the
/// kernel advertises, so it must be set before the handshake). Tries each resolved address.
async fn connect_with_recv_buffer(target: &Target, bytes: u32) -> Result<TcpStream, ConnError> {
    let addrs = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(ConnError::Connect)?;
    let mut last = None;
    for addr in addrs {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(ConnError::Connect)?;
        socket
            .set_recv_buffer_size(bytes)
            .map_err(ConnError::Connect)?;
        match socket.connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(ConnError::Connect(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")
    })))
}

async fn upgrade<S>(request: Request<Empty<Bytes>>, stream: S) -> Result<WebSocket<Io>, ConnError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    match fastwebsockets::handshake::client(&SpawnExecutor, request, stream).await {
        Ok((ws, _response)) => Ok(ws),
        Err(WebSocketError::InvalidStatusCode(status)) => Err(ConnError::Rejected { status }),
        Err(e) => Err(ConnError::Handshake(e)),
    }
}

impl Connection {
    fn from_websocket(mut ws: WebSocket<Io>) -> Connection {
        // Every frame goes through the write buffer; `flush` decides when bytes leave.
        ws.set_writev(false);
        ws.set_auto_pong(true);
        ws.set_auto_close(true);
        // fastwebsockets refuses frames of at least this size.
        ws.set_max_message_size(MAX_SERVER_MESSAGE + 1);
        let (read, write) = ws.split(|io| {
            let (read, write) = tokio::io::split(io);
            (read, BufWriter::with_capacity(WRITE_BUFFER, write))
        });
        let writer = ConnWriter {
            shared: Arc::new(WriterShared {
                ws: Mutex::new(write),
                sent: TrafficMeter::default(),
            }),
        };
        let reader = ConnReader {
            ws: FragmentCollectorRead::new(read),
            writer: writer.clone(),
            received: Arc::default(),
            closed: false,
        };
        Connection { reader, writer }
    }
}

/// Runs hyper's connection task (which only finishes the upgrade) on tokio.
struct SpawnExecutor;

impl hyper::rt::Executor<Pin<Box<dyn Future<Output = ()> + Send>>> for SpawnExecutor {
    fn execute(&self, fut: Pin<Box<dyn Future<Output = ()> + Send>>) {
        tokio::spawn(fut);
    }
}

#[cfg(test)]
mod tests {
    use fastwebsockets::{Frame, OpCode, Payload};
    use tokio::sync::mpsc;

    use shared::codec;
    use shared::{ClientMessage, Input, Ping, ServerMessage, Tick};

    use super::*;
    use crate::testing::{
        self, ServerWs, read_client_frame, send_server, serve, serve_tls, within,
    };

    fn input(seq: u32) -> ClientMessage {
        ClientMessage::Input(Input {
            seq,
            ack_tick: Tick(seq),
            values: shared::InputValues::new(&[0, 1, 0]).expect("three values fit"),
        })
    }

    /// A script that answers every client message with `Pong` of the same ping, or for an input
    /// a `Ping` whose id is the input's seq; and reports each frame it got.
    async fn echo(mut ws: ServerWs, seen: mpsc::UnboundedSender<(OpCode, Vec<u8>)>) {
        for _ in 0..testing::MAX_FRAMES {
            let Some((opcode, payload)) = read_client_frame(&mut ws).await else {
                return;
            };
            let _ = seen.send((opcode, payload.clone()));
            if opcode != OpCode::Binary {
                continue;
            }
            let reply = match codec::decode_client(&payload) {
                Ok(ClientMessage::Ping(p)) => ServerMessage::Pong(p),
                Ok(ClientMessage::Input(i)) => ServerMessage::Ping(Ping {
                    id: i.seq,
                    sent_us: 0,
                }),
                _ => continue,
            };
            if send_server(&mut ws, &reply).await.is_err() {
                return;
            }
        }
    }

    #[test]
    fn close_payload_carries_a_big_endian_code_and_a_reason() {
        let mut payload = 4003u16.to_be_bytes().to_vec();
        payload.extend_from_slice("unknown ticket".as_bytes());
        assert_eq!(
            parse_close_payload(&payload),
            (4003, "unknown ticket".to_string()),
            "code and reason"
        );
        assert_eq!(
            parse_close_payload(&1000u16.to_be_bytes()),
            (1000, String::new()),
            "a code without a reason"
        );
    }

    #[test]
    fn an_empty_close_payload_reads_as_no_status() {
        assert_eq!(
            parse_close_payload(&[]),
            (NO_STATUS_RECEIVED, String::new()),
            "1005 for an empty payload"
        );
    }

    #[test]
    fn a_one_byte_close_payload_is_a_protocol_error() {
        assert_eq!(
            parse_close_payload(&[3]).0,
            PROTOCOL_ERROR,
            "one byte cannot hold a code"
        );
    }

    #[test]
    fn an_invalid_utf8_reason_is_read_lossily() {
        let payload = [0x0f, 0xa0, b'o', 0xff, b'k'];
        let (code, reason) = parse_close_payload(&payload);
        assert_eq!(code, 4000, "code still read");
        assert_eq!(reason, "o\u{fffd}k", "bad byte replaced");
    }

    #[test]
    fn urls_parse_into_host_port_and_path() {
        let t = Target::parse("wss://127.0.0.1:8443/v1/realtime").expect("valid");
        assert!(t.tls, "wss is TLS");
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 8443, "/v1/realtime"),
            "parts"
        );
        assert_eq!(t.authority, "127.0.0.1:8443", "Host header keeps the port");

        let t = Target::parse("ws://localhost").expect("valid");
        assert_eq!(
            (t.tls, t.port, t.path.as_str()),
            (false, 80, "/"),
            "defaults for ws"
        );
        assert_eq!(
            Target::parse("https://example.com/x?y=1").expect("valid"),
            Target {
                tls: true,
                host: "example.com".into(),
                port: 443,
                authority: "example.com".into(),
                path: "/x?y=1".into(),
            },
            "https is taken as wss, query kept"
        );
        let t = Target::parse("ws://[::1]:9000/v1/realtime").expect("valid");
        assert_eq!(t.host, "::1", "IPv6 host without brackets");
        assert_eq!(t.authority, "[::1]:9000", "Host header keeps the brackets");
    }

    #[test]
    fn urls_without_a_websocket_scheme_or_host_are_refused() {
        for url in [
            "ftp://host/x",
            "/v1/realtime",
            "not a url",
            "ws://user:pw@host/",
        ] {
            assert!(
                matches!(Target::parse(url), Err(ConnError::InvalidUrl { .. })),
                "{url} should be refused"
            );
        }
    }

    #[tokio::test]
    async fn a_message_round_trips_through_the_server() {
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| echo(ws, seen_tx.clone())).await;
        let mut conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        let ping = Ping {
            id: 42,
            sent_us: 1234,
        };
        conn.send(&ClientMessage::Ping(ping)).await.expect("send");
        let got = within(conn.recv()).await.expect("recv");
        assert_eq!(
            got,
            Received::Message(ServerMessage::Pong(ping)),
            "the server's answer decodes"
        );
        let (opcode, payload) = within(seen.recv()).await.expect("server saw a frame");
        assert_eq!(opcode, OpCode::Binary, "messages are binary frames");
        assert_eq!(
            codec::decode_client(&payload),
            Ok(ClientMessage::Ping(ping)),
            "the server decodes what the client encoded"
        );
        assert_eq!(
            conn.writer().sent(),
            Traffic {
                frames: 1,
                bytes: payload.len() as u64
            },
            "one frame counted"
        );
    }

    #[tokio::test]
    async fn queued_messages_leave_on_flush_in_order() {
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| echo(ws, seen_tx.clone())).await;
        let mut conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        for seq in 1..=3 {
            conn.queue(&input(seq)).await.expect("queue");
        }
        conn.flush().await.expect("flush");
        for seq in 1..=3 {
            let got = within(conn.recv()).await.expect("recv");
            assert_eq!(
                got,
                Received::Message(ServerMessage::Ping(Ping {
                    id: seq,
                    sent_us: 0
                })),
                "answer {seq} in order"
            );
        }
    }

    #[tokio::test]
    async fn split_halves_work_from_two_tasks() {
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| echo(ws, seen_tx.clone())).await;
        let conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        let (mut reader, writer) = conn.split();
        const N: u32 = 50;
        let sender = tokio::spawn(async move {
            for seq in 1..=N {
                writer.send(&input(seq)).await.expect("send");
            }
        });
        for seq in 1..=N {
            let got = within(reader.recv()).await.expect("recv");
            assert_eq!(
                got,
                Received::Message(ServerMessage::Ping(Ping {
                    id: seq,
                    sent_us: 0
                })),
                "answer {seq}"
            );
        }
        within(sender).await.expect("sender task finished");
        assert_eq!(
            reader.received().frames,
            u64::from(N),
            "every frame counted"
        );
    }

    #[tokio::test]
    async fn close_code_and_reason_reach_the_client() {
        let server = serve(|mut ws: ServerWs| async move {
            let _ = ws.write_frame(Frame::close(4003, b"unknown ticket")).await;
            // Wait for the client's echo so the close is orderly.
            let _ = read_client_frame(&mut ws).await;
        })
        .await;
        let mut conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        assert_eq!(
            within(conn.recv()).await.expect("recv"),
            Received::Closed {
                code: 4003,
                reason: "unknown ticket".into()
            },
            "code and reason parsed"
        );
        assert!(conn.writer().is_closed().await, "the close was echoed");
        assert!(
            matches!(conn.recv().await, Err(ConnError::Closed)),
            "reading after the close fails"
        );
    }

    #[tokio::test]
    async fn an_empty_close_frame_reaches_the_client_as_1005() {
        let server = serve(|mut ws: ServerWs| async move {
            let _ = ws
                .write_frame(Frame::close_raw(Payload::Owned(Vec::new())))
                .await;
            let _ = read_client_frame(&mut ws).await;
        })
        .await;
        let mut conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        assert_eq!(
            within(conn.recv()).await.expect("recv"),
            Received::Closed {
                code: NO_STATUS_RECEIVED,
                reason: String::new()
            },
            "no status"
        );
    }

    #[tokio::test]
    async fn a_dropped_connection_reads_as_1006() {
        let server = serve(|ws: ServerWs| async move {
            drop(ws);
        })
        .await;
        let mut conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        let got = within(conn.recv()).await.expect("recv");
        assert!(
            matches!(
                got,
                Received::Closed {
                    code: ABNORMAL_CLOSURE,
                    ..
                }
            ),
            "abnormal closure: {got:?}"
        );
    }

    #[tokio::test]
    async fn a_fragmented_message_is_reassembled() {
        let msg = ServerMessage::Kicked {
            reason: "x".repeat(300),
        };
        let bytes = codec::encode_server(&msg);
        let server = serve(move |mut ws: ServerWs| {
            let bytes = bytes.clone();
            async move {
                let (a, rest) = bytes.split_at(10);
                let (b, c) = rest.split_at(100);
                let frames = [
                    Frame::new(false, OpCode::Binary, None, Payload::Owned(a.to_vec())),
                    Frame::new(
                        false,
                        OpCode::Continuation,
                        None,
                        Payload::Owned(b.to_vec()),
                    ),
                    Frame::new(true, OpCode::Continuation, None, Payload::Owned(c.to_vec())),
                ];
                for frame in frames {
                    if ws.write_frame(frame).await.is_err() {
                        return;
                    }
                }
                let _ = read_client_frame(&mut ws).await;
            }
        })
        .await;
        let mut conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        assert_eq!(
            within(conn.recv()).await.expect("recv"),
            Received::Message(msg),
            "three fragments make one message"
        );
    }

    #[tokio::test]
    async fn a_websocket_ping_is_answered_while_reading() {
        let (pong_tx, mut pong) = mpsc::unbounded_channel();
        let server = serve(move |mut ws: ServerWs| {
            let pong_tx = pong_tx.clone();
            async move {
                // The server reads frames itself, so it sees the client's pong.
                ws.set_auto_pong(false);
                let ping = Frame::new(true, OpCode::Ping, None, Payload::Owned(b"hb".to_vec()));
                if ws.write_frame(ping).await.is_err() {
                    return;
                }
                if let Some(frame) = read_client_frame(&mut ws).await {
                    let _ = pong_tx.send(frame);
                }
                let _ = send_server(
                    &mut ws,
                    &ServerMessage::Kicked {
                        reason: "done".into(),
                    },
                )
                .await;
                let _ = read_client_frame(&mut ws).await;
            }
        })
        .await;
        let conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        let (mut reader, _writer) = conn.split();
        let got = within(reader.recv()).await.expect("recv");
        assert_eq!(
            got,
            Received::Message(ServerMessage::Kicked {
                reason: "done".into()
            }),
            "the message after the ping"
        );
        let (opcode, payload) = within(pong.recv()).await.expect("server saw a frame");
        assert_eq!(opcode, OpCode::Pong, "the client answered the ping");
        assert_eq!(payload, b"hb", "with the ping's payload");
    }

    #[tokio::test]
    async fn raw_text_and_close_frames_reach_the_server_as_sent() {
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| echo(ws, seen_tx.clone())).await;
        let conn = within(Connection::connect(&server.ws_url(), false))
            .await
            .expect("connect");
        conn.send_raw_binary(&[0xff, 0x00]).await.expect("raw");
        conn.send_text("hello").await.expect("text");
        conn.close(4000, "bye").await.expect("close");
        let expected = [
            (OpCode::Binary, vec![0xff, 0x00]),
            (OpCode::Text, b"hello".to_vec()),
            (OpCode::Close, {
                let mut p = 4000u16.to_be_bytes().to_vec();
                p.extend_from_slice(b"bye");
                p
            }),
        ];
        for (opcode, payload) in expected {
            let got = within(seen.recv()).await.expect("server saw a frame");
            assert_eq!(got, (opcode, payload), "frame as sent");
        }
        assert!(
            conn.send(&ClientMessage::Leave).await.is_err(),
            "nothing can be sent after a close"
        );
    }

    #[tokio::test]
    async fn a_refused_upgrade_reports_the_http_status() {
        let server = testing::serve_status(404).await;
        let result = within(Connection::connect(&server.ws_url(), false)).await;
        assert!(
            matches!(result, Err(ConnError::Rejected { status: 404 })),
            "status reported: {result:?}"
        );
    }

    #[tokio::test]
    async fn a_silent_server_times_out_the_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("ws://{}/v1/realtime", listener.local_addr().expect("addr"));
        let options = ConnectOptions {
            timeout: Duration::from_millis(200),
            ..ConnectOptions::default()
        };
        let result = within(Connection::connect_with(&url, options)).await;
        assert!(
            matches!(result, Err(ConnError::Timeout(_))),
            "timed out: {result:?}"
        );
        drop(listener);
    }

    #[tokio::test]
    async fn a_small_receive_buffer_still_connects_and_round_trips() {
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| echo(ws, seen_tx.clone())).await;
        let options = ConnectOptions {
            recv_buffer: Some(4096),
            ..ConnectOptions::default()
        };
        let mut conn = within(Connection::connect_with(&server.ws_url(), options))
            .await
            .expect("connect with a small receive buffer");
        let ping = Ping { id: 5, sent_us: 6 };
        conn.send(&ClientMessage::Ping(ping)).await.expect("send");
        assert_eq!(
            within(conn.recv()).await.expect("recv"),
            Received::Message(ServerMessage::Pong(ping)),
            "round trip"
        );
    }

    #[tokio::test]
    async fn insecure_wss_accepts_a_self_signed_certificate() {
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let server = serve_tls(move |ws| echo(ws, seen_tx.clone())).await;
        let mut conn = within(Connection::connect(&server.wss_url(), true))
            .await
            .expect("insecure connect over TLS");
        let ping = Ping { id: 1, sent_us: 2 };
        conn.send(&ClientMessage::Ping(ping)).await.expect("send");
        assert_eq!(
            within(conn.recv()).await.expect("recv"),
            Received::Message(ServerMessage::Pong(ping)),
            "round trip over TLS"
        );
    }

    #[tokio::test]
    async fn verified_wss_refuses_a_self_signed_certificate() {
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let server = serve_tls(move |ws| echo(ws, seen_tx.clone())).await;
        let result = within(Connection::connect(&server.wss_url(), false)).await;
        assert!(
            matches!(result, Err(ConnError::Tls(_))),
            "unknown issuer refused: {result:?}"
        );
    }

    #[test]
    fn decode_and_text_errors_are_not_fatal() {
        assert!(
            !ConnError::Decode(shared::CodecError::Malformed).is_fatal(),
            "one bad frame"
        );
        assert!(!ConnError::UnexpectedText.is_fatal(), "one text frame");
        assert!(ConnError::Closed.is_fatal(), "closed is final");
    }
}
