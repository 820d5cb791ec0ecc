//! The public edge against a real server: hostile WebSocket clients (unmasked frames, frames
//! just over the size limit, fragments that never finish, ping and input floods, acks from the
//! future and the past, a client that never sends `Hello`), connection floods from one address,
//! slowloris on the request headers, browsers from other origins, caching headers, and client
//! addresses behind trusted proxies. Every abuse runs beside an honest player who must keep
//! receiving its ticks with no desync.
//!
//! The misbehaving clients speak raw TCP (plain ws) so they can send what no WebSocket library
//! would: unmasked frames, half a request line.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use bot_client::session::{Session, SessionEvent};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use server::config::Limits;
use shared::games::arena::{self, ArenaInput};
use shared::protocol::{ClientMessage, Hello, Input, ServerMessage};
use shared::{InputValues, PROTOCOL_VERSION, Tick, close, codec};
use tests::{Options, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

/// Upper bound for anything a test waits for: generous for a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

fn addr(srv: &TestServer) -> anyhow::Result<SocketAddr> {
    Ok(srv
        .base
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .parse()?)
}

fn plain() -> Options {
    Options {
        tls: false,
        ..Options::default()
    }
}

/// A TCP connection from `local` (an address on the loopback network) to the server.
async fn tcp_from(local: &str, to: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{local}:0").parse()?)?;
    Ok(socket.connect(to).await?)
}

/// A hand-driven HTTP/WebSocket client.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A parsed HTTP response head and body.
struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> anyhow::Result<Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }
}

impl Raw {
    fn new(stream: TcpStream) -> Raw {
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self) -> anyhow::Result<bool> {
        let mut chunk = [0u8; 4096];
        let n = timeout(PATIENCE, self.stream.read(&mut chunk)).await??;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// Sends `request` and reads one response (with a Content-Length body, or none).
    async fn http(&mut self, request: &str) -> anyhow::Result<HttpResponse> {
        self.stream.write_all(request.as_bytes()).await?;
        let end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            anyhow::ensure!(self.fill().await?, "closed before a response");
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).to_string();
        self.buf.drain(..end + 4);
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .context("status line")?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while self.buf.len() < len {
            anyhow::ensure!(self.fill().await?, "closed inside a body");
        }
        let body = self.buf.drain(..len).collect();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    async fn upgrade(&mut self, path: &str, extra: &str) -> anyhow::Result<HttpResponse> {
        self.http(&format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        ))
        .await
    }

    /// Writes one frame; `masked` as RFC 6455 requires of clients, or not.
    async fn frame(
        &mut self,
        fin: bool,
        opcode: u8,
        payload: &[u8],
        masked: bool,
    ) -> anyhow::Result<()> {
        let mut out = vec![(u8::from(fin) << 7) | opcode];
        let mask_bit = if masked { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => out.push(mask_bit | n as u8),
            n if n < 65536 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        if masked {
            let key = [0x37, 0xfa, 0x21, 0x3d];
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            out.extend_from_slice(payload);
        }
        self.stream.write_all(&out).await?;
        Ok(())
    }

    async fn send(&mut self, msg: &ClientMessage) -> anyhow::Result<()> {
        self.frame(true, 0x2, &codec::encode_client(msg), true)
            .await
    }

    /// The next frame from the server (opcode, payload); `None` once the connection closed.
    async fn read_frame(&mut self) -> anyhow::Result<Option<(u8, Vec<u8>)>> {
        loop {
            if self.buf.len() >= 2 {
                let opcode = self.buf[0] & 0x0f;
                let (len, head) = match self.buf[1] & 0x7f {
                    126 if self.buf.len() >= 4 => (
                        usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])),
                        4,
                    ),
                    127 if self.buf.len() >= 10 => {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&self.buf[2..10]);
                        (u64::from_be_bytes(b) as usize, 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (usize::from(n), 2),
                };
                if len != usize::MAX && self.buf.len() >= head + len {
                    let payload = self.buf[head..head + len].to_vec();
                    self.buf.drain(..head + len);
                    return Ok(Some((opcode, payload)));
                }
            }
            match self.fill().await {
                Ok(true) => {}
                Ok(false) | Err(_) => return Ok(None),
            }
        }
    }

    /// Reads until the server's close frame; its code and reason.
    async fn closed(&mut self) -> anyhow::Result<(u16, String)> {
        while let Some((opcode, payload)) = self.read_frame().await? {
            if opcode == 0x8 {
                anyhow::ensure!(payload.len() >= 2, "a close frame with a code");
                return Ok((
                    u16::from_be_bytes([payload[0], payload[1]]),
                    String::from_utf8_lossy(&payload[2..]).into_owned(),
                ));
            }
        }
        anyhow::bail!("the connection ended without a close frame")
    }

    /// The next server message (skipping control frames).
    async fn message(&mut self) -> anyhow::Result<ServerMessage> {
        loop {
            match self.read_frame().await? {
                Some((0x2, payload)) => return Ok(codec::decode_server(&payload)?),
                Some((0x8, payload)) => anyhow::bail!("closed: {payload:?}"),
                Some(_) => {}
                None => anyhow::bail!("connection ended"),
            }
        }
    }

    /// Whether the server closed the TCP connection (reads end) within `PATIENCE`.
    async fn dropped(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        loop {
            match timeout(PATIENCE, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
                Err(_) => return false,
            }
        }
    }
}

fn input(seq: u32, ack: Tick) -> ClientMessage {
    ClientMessage::Input(Input {
        seq,
        ack_tick: ack,
        values: InputValues::of(&ArenaInput {
            buttons: 0,
            move_dir: 1,
            aim: 0,
        }),
    })
}

/// A raw client seated in `match_id` (its Hello answered by a Welcome).
async fn seated(srv: &TestServer, match_id: &str, device: &str) -> anyhow::Result<Raw> {
    let (_, token) = srv.guest(device).await?;
    let (ticket, _) = srv.ticket(&token, match_id).await?;
    let mut raw = Raw::new(TcpStream::connect(addr(srv)?).await?);
    let up = raw.upgrade("/v1/realtime", "").await?;
    anyhow::ensure!(up.status == 101, "upgraded: {}", up.status);
    raw.send(&ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        ticket,
        resume: None,
        game_hash: None,
    }))
    .await?;
    match raw.message().await? {
        ServerMessage::Welcome(_) => Ok(raw),
        other => anyhow::bail!("expected a Welcome, got {other:?}"),
    }
}

/// A well-behaved player in the background: reads every snapshot, sends an input for each.
struct Honest {
    stop: CancellationToken,
    /// Snapshots received so far.
    received: tokio::sync::watch::Receiver<usize>,
    task: JoinHandle<anyhow::Result<(Vec<Tick>, u64)>>,
}

impl Honest {
    async fn start(srv: &TestServer, match_id: &str) -> anyhow::Result<Honest> {
        let (_, token) = srv.guest("device-honest-01").await?;
        let (ticket, url) = srv.ticket(&token, match_id).await?;
        let (mut session, _) = Session::join(&url, &ticket, &arena::PROTOCOL, true).await?;
        let stop = CancellationToken::new();
        let until = stop.clone();
        let (count, received) = tokio::sync::watch::channel(0);
        let task = tokio::spawn(async move {
            let mut ticks = Vec::new();
            loop {
                let event = tokio::select! {
                    _ = until.cancelled() => break,
                    event = timeout(PATIENCE, session.next_event()) => event??,
                };
                match event {
                    SessionEvent::Snapshot(s) => {
                        ticks.push(s.applied.tick);
                        count.send_replace(ticks.len());
                        session
                            .send_input(InputValues::of(&ArenaInput {
                                buttons: 0,
                                move_dir: 3,
                                aim: 0,
                            }))
                            .await?;
                    }
                    SessionEvent::Closed { code, reason } => {
                        anyhow::bail!("the honest player was closed: {code} {reason}")
                    }
                    _ => {}
                }
            }
            Ok((ticks, session.replica().counters().desyncs))
        });
        let honest = Honest {
            stop,
            received,
            task,
        };
        Ok(honest)
    }

    /// Lets it play a while longer, stops it, and asserts it kept playing throughout.
    async fn finish(mut self, what: &str) -> anyhow::Result<()> {
        let target = *self.received.borrow() + 15;
        // A closed channel means the task ended early; its result below says why.
        let _ = timeout(PATIENCE, self.received.wait_for(|n| *n >= target)).await;
        self.stop.cancel();
        let (ticks, desyncs) = timeout(PATIENCE, self.task).await???;
        anyhow::ensure!(
            ticks.len() >= 10,
            "{what}: the honest player got {} ticks",
            ticks.len()
        );
        anyhow::ensure!(
            ticks.windows(2).all(|w| w[0] < w[1]),
            "{what}: its ticks kept increasing"
        );
        let span = ticks[ticks.len() - 1].since(ticks[0]) as usize + 1;
        // Ticks it missed are ones a busy test machine's scheduler made the server skip for it
        // (the newest snapshot replaces an unsent one): most arrive, and never a long gap.
        anyhow::ensure!(
            ticks.len() * 3 >= span * 2,
            "{what}: the honest player received {} of {span} ticks",
            ticks.len()
        );
        let gap = ticks
            .windows(2)
            .map(|w| w[1].since(w[0]))
            .max()
            .unwrap_or(0);
        anyhow::ensure!(gap <= 30, "{what}: a gap of {gap} ticks");
        anyhow::ensure!(desyncs == 0, "{what}: the honest player desynced");
        Ok(())
    }
}

async fn arena_match(srv: &TestServer) -> anyhow::Result<String> {
    let (_, token) = srv.guest("device-host-0001").await?;
    srv.create_match(&token, None).await
}

#[tokio::test]
async fn hostile_websocket_clients_are_closed_with_a_code_while_others_play() -> anyhow::Result<()>
{
    let srv = TestServer::start_with(Options {
        limits: Limits {
            idle_timeout_s: 2.0,
            ..Limits::default()
        },
        ..plain()
    })
    .await?;
    let match_id = arena_match(&srv).await?;
    let honest = Honest::start(&srv, &match_id).await?;
    let max = shared::codec::MAX_CLIENT_MESSAGE;

    // Unmasked: RFC 6455 §5.1 says fail the connection.
    let mut raw = seated(&srv, &match_id, "device-unmasked-1").await?;
    raw.frame(
        true,
        0x2,
        &codec::encode_client(&input(1, Tick::ZERO)),
        false,
    )
    .await?;
    let (code, reason) = raw.closed().await?;
    assert_eq!(code, close::PROTOCOL_ERROR, "unmasked frame: {reason}");
    assert!(reason.contains("masked"), "the reason says why: {reason}");

    // One byte over the message size limit (in one frame, then in fragments).
    let mut raw = seated(&srv, &match_id, "device-oversize-1").await?;
    raw.frame(true, 0x2, &vec![0u8; max + 1], true).await?;
    let (code, reason) = raw.closed().await?;
    assert_eq!(code, close::MESSAGE_TOO_BIG, "a frame of max + 1: {reason}");
    let mut raw = seated(&srv, &match_id, "device-oversize-2").await?;
    raw.frame(false, 0x2, &vec![0u8; max / 2], true).await?;
    raw.frame(false, 0x0, &vec![0u8; max / 2], true).await?;
    raw.frame(true, 0x0, &[0u8; 1], true).await?;
    let (code, reason) = raw.closed().await?;
    assert_eq!(
        code,
        close::MESSAGE_TOO_BIG,
        "fragments adding to max + 1: {reason}"
    );
    // Exactly the limit is not "too big": it fails to decode instead.
    let mut raw = seated(&srv, &match_id, "device-oversize-3").await?;
    raw.frame(true, 0x2, &vec![0xffu8; max], true).await?;
    let (code, reason) = raw.closed().await?;
    assert_eq!(code, close::MALFORMED, "a frame of exactly max: {reason}");

    // A fragmented message that never finishes: the idle timeout ends it.
    let mut raw = seated(&srv, &match_id, "device-fragment-1").await?;
    raw.frame(false, 0x2, &[1, 2, 3], true).await?;
    let (code, reason) = raw.closed().await?;
    assert_eq!(code, close::IDLE_TIMEOUT, "an unfinished message: {reason}");

    // A ping flood (WebSocket pings) and an input flood.
    let mut raw = seated(&srv, &match_id, "device-pingflood").await?;
    for _ in 0..2000 {
        raw.frame(true, 0x9, b"ping", true).await?;
    }
    let (code, reason) = raw.closed().await?;
    assert_eq!(code, close::INPUT_FLOOD, "a ping flood: {reason}");
    // Pongs nobody asked for: the tick reads them, so they count like any other message.
    let mut raw = seated(&srv, &match_id, "device-pongflood").await?;
    for _ in 0..2000 {
        raw.frame(true, 0xA, b"pong", true).await?;
    }
    let (code, reason) = raw.closed().await?;
    assert_eq!(code, close::INPUT_FLOOD, "a pong flood: {reason}");
    let mut raw = seated(&srv, &match_id, "device-inputflood").await?;
    for seq in 1..=2000 {
        raw.send(&input(seq, Tick::ZERO)).await?;
    }
    let (code, reason) = raw.closed().await?;
    assert_eq!(code, close::INPUT_FLOOD, "an input flood: {reason}");

    // Never sending Hello: the handshake timeout.
    let mut raw = Raw::new(TcpStream::connect(addr(&srv)?).await?);
    assert_eq!(raw.upgrade("/v1/realtime", "").await?.status, 101);
    let (code, reason) = raw.closed().await?;
    assert_eq!(code, close::HANDSHAKE_TIMEOUT, "no Hello: {reason}");

    honest.finish("hostile clients").await?;
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn acks_from_the_future_and_the_past_do_not_break_the_stream() -> anyhow::Result<()> {
    let srv = TestServer::start_with(plain()).await?;
    let match_id = arena_match(&srv).await?;
    let honest = Honest::start(&srv, &match_id).await?;
    let (_, token) = srv.guest("device-acker-0001").await?;
    let (ticket, url) = srv.ticket(&token, &match_id).await?;
    let (mut liar, _) = Session::join(&url, &ticket, &arena::PROTOCOL, true).await?;
    // The session applies every snapshot through its replica, so a delta against a baseline
    // the client never had would fail to apply.
    for round in 0..60u32 {
        let tick = loop {
            match timeout(PATIENCE, liar.next_event()).await?? {
                SessionEvent::Snapshot(s) => break s.applied.tick,
                SessionEvent::Closed { code, reason } => {
                    anyhow::bail!("the lying client was closed: {code} {reason}")
                }
                _ => {}
            }
        };
        let ack = match round % 3 {
            0 => Tick(tick.0 + 1_000_000),
            1 => Tick(1),
            _ => Tick(u32::MAX),
        };
        let seq = round + 1;
        liar.writer()
            .send(&ClientMessage::Input(Input {
                seq,
                ack_tick: ack,
                values: InputValues::of(&ArenaInput {
                    buttons: 0,
                    move_dir: 0,
                    aim: 0,
                }),
            }))
            .await?;
    }
    assert_eq!(
        liar.replica().counters().desyncs,
        0,
        "every snapshot applied and verified"
    );
    honest.finish("lying acks").await?;
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_connections() -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        limits: Limits {
            max_connections_per_address: 12,
            ..Limits::default()
        },
        ..plain()
    })
    .await?;
    let match_id = arena_match(&srv).await?;
    let honest = Honest::start(&srv, &match_id).await?;
    let to = addr(&srv)?;
    let get = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // Keep-alive connections from 127.0.0.1 until the cap answers.
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..40 {
        let mut raw = Raw::new(TcpStream::connect(to).await?);
        let response = raw.http(get).await?;
        if response.status == 429 {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status, 200, "below the cap");
        held.push(raw);
    }
    let refused = refused.context("the cap refused a connection")?;
    assert!(
        held.len() < 12,
        "at most the cap (less what the test's own clients hold): {}",
        held.len()
    );
    assert_eq!(
        refused.json()?["error"]["code"],
        "too_many_connections",
        "a clear refusal in the JSON error shape"
    );
    assert_eq!(refused.header("connection"), Some("close"));
    // Another address is not affected.
    let mut other = Raw::new(tcp_from("127.0.0.2", to).await?);
    assert_eq!(other.http(get).await?.status, 200, "127.0.0.2 connects");
    // A connection given back makes room again.
    drop(held.pop());
    let reopened = timeout(PATIENCE, async {
        loop {
            let mut raw = Raw::new(TcpStream::connect(to).await?);
            if raw.http(get).await?.status == 200 {
                return anyhow::Ok(raw);
            }
        }
    })
    .await??;
    drop(reopened);
    honest.finish("connection flood").await?;
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn slow_headers_are_dropped_within_the_header_timeout() -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        limits: Limits {
            header_timeout_s: 1.0,
            ..Limits::default()
        },
        ..plain()
    })
    .await?;
    let match_id = arena_match(&srv).await?;
    let honest = Honest::start(&srv, &match_id).await?;
    let to = addr(&srv)?;
    // Half a request line, then nothing.
    let mut slow = Raw::new(TcpStream::connect(to).await?);
    slow.stream.write_all(b"GET /healthz HT").await?;
    // Half an upgrade request.
    let mut slow_upgrade = Raw::new(TcpStream::connect(to).await?);
    slow_upgrade
        .stream
        .write_all(b"GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        .await?;
    // Nothing at all.
    let mut silent = Raw::new(TcpStream::connect(to).await?);
    let started = tokio::time::Instant::now();
    assert!(slow.dropped().await, "half a request line is dropped");
    assert!(slow_upgrade.dropped().await, "half an upgrade is dropped");
    assert!(silent.dropped().await, "a silent connection is dropped");
    // Far below hyper's default of 30 s even on a busy machine.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "dropped after {:?}",
        started.elapsed()
    );
    // A prompt request on a fresh connection is served.
    let mut prompt = Raw::new(TcpStream::connect(to).await?);
    let ok = prompt
        .http("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await?;
    assert_eq!(ok.status, 200);
    honest.finish("slowloris").await?;
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn browsers_from_other_origins_get_cors_only_where_allowed() -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        allowed_origins: vec!["https://games.example.com".into()],
        ..plain()
    })
    .await?;
    let to = addr(&srv)?;
    let preflight = |origin: &str| {
        format!(
            "OPTIONS /v1/sessions/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: POST\r\n\
             Access-Control-Request-Headers: content-type, authorization\r\n\r\n"
        )
    };
    let mut raw = Raw::new(TcpStream::connect(to).await?);
    let allowed = raw.http(&preflight("https://games.example.com")).await?;
    assert!(
        allowed.status < 300,
        "a preflight is answered: {}",
        allowed.status
    );
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://games.example.com")
    );
    assert!(
        allowed
            .header("access-control-allow-headers")
            .is_some_and(|h| h.to_ascii_lowercase().contains("authorization")),
        "the bearer header may be sent"
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        None,
        "no credentials"
    );
    let mut raw = Raw::new(TcpStream::connect(to).await?);
    let foreign = raw.http(&preflight("https://evil.example")).await?;
    assert_eq!(
        foreign.header("access-control-allow-origin"),
        None,
        "a foreign origin gets no CORS grant"
    );

    // The WebSocket upgrade checks Origin itself.
    let mut raw = Raw::new(TcpStream::connect(to).await?);
    let refused = raw
        .upgrade("/v1/realtime", "Origin: https://evil.example\r\n")
        .await?;
    assert_eq!(refused.status, 403, "a browser on a foreign page");
    assert_eq!(refused.json()?["error"]["code"], "origin_not_allowed");
    for origin in ["https://games.example.com", "http://127.0.0.1"] {
        let mut raw = Raw::new(TcpStream::connect(to).await?);
        let up = raw
            .upgrade("/v1/realtime", &format!("Origin: {origin}\r\n"))
            .await?;
        assert_eq!(
            up.status, 101,
            "{origin}: allowed (listed, or the server's own)"
        );
    }
    let mut raw = Raw::new(TcpStream::connect(to).await?);
    assert_eq!(
        raw.upgrade("/v1/realtime", "").await?.status,
        101,
        "no Origin: not a browser, allowed"
    );

    // `*` allows any page, still without credentials.
    let any = TestServer::start_with(Options {
        allowed_origins: vec!["*".into()],
        ..plain()
    })
    .await?;
    let mut raw = Raw::new(TcpStream::connect(addr(&any)?).await?);
    let star = raw.http(&preflight("https://anyone.example")).await?;
    assert_eq!(star.header("access-control-allow-origin"), Some("*"));
    assert_eq!(star.header("access-control-allow-credentials"), None);
    any.stop().await;
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn gets_say_how_they_may_be_cached_and_etags_revalidate() -> anyhow::Result<()> {
    let srv = TestServer::start_with(plain()).await?;
    let (_, token) = srv.guest("device-cache-0001").await?;
    let client = reqwest::Client::new();
    for (path, public) in [
        ("/v1/leaderboards/score", true),
        ("/v1/matches", true),
        ("/v1/openapi.json", true),
        ("/v1/games", true),
        ("/v1/accounts/me", false),
        ("/v1/leaderboards/score/around/me", false),
        ("/healthz", false),
    ] {
        let got = client.get(srv.url(path)).bearer_auth(&token).send().await?;
        let status = got.status();
        let cache = got
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if public {
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(cache.starts_with("public, max-age="), "{path}: {cache}");
            let etag = got
                .headers()
                .get("etag")
                .context("an ETag")?
                .to_str()?
                .to_string();
            let again = client
                .get(srv.url(path))
                .header("if-none-match", &etag)
                .send()
                .await?;
            assert_eq!(
                again.status(),
                StatusCode::NOT_MODIFIED,
                "{path}: revalidated"
            );
            assert!(again.bytes().await?.is_empty(), "{path}: a 304 has no body");
            let changed = client
                .get(srv.url(path))
                .header("if-none-match", "\"0000000000000000\"")
                .send()
                .await?;
            assert_eq!(
                changed.status(),
                StatusCode::OK,
                "{path}: another tag gets the body"
            );
        } else {
            assert_eq!(
                cache, "no-store",
                "{path} ({status}) is per account or live"
            );
        }
    }
    // Pages carry the security headers.
    let page = client.get(srv.url("/")).send().await?;
    let headers = page.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let csp = headers["content-security-policy"].to_str()?;
    assert!(
        csp.contains("default-src 'self'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        limits: Limits {
            guest_logins_per_address_per_minute: 3,
            ..Limits::default()
        },
        trusted_proxies: vec!["127.0.0.2/32".parse()?],
        ..plain()
    })
    .await?;
    let to = addr(&srv)?;
    let guest = |device: &str, forwarded_for: &str| {
        let body = format!("{{\"device_id\":\"{device}\"}}");
        format!(
            "POST /v1/sessions/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             X-Forwarded-For: {forwarded_for}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // Through the trusted proxy, each client has its own budget.
    let mut proxy = Raw::new(tcp_from("127.0.0.2", to).await?);
    for i in 0..3 {
        let r = proxy
            .http(&guest(&format!("device-px-a-{i:04}"), "198.51.100.1"))
            .await?;
        assert_eq!(r.status, 200, "client A, login {i}");
    }
    let limited = proxy
        .http(&guest("device-px-a-9999", "198.51.100.1"))
        .await?;
    assert_eq!(limited.status, 429, "client A is over its budget");
    let other = proxy
        .http(&guest("device-px-b-0001", "198.51.100.2"))
        .await?;
    assert_eq!(other.status, 200, "client B behind the same proxy is not");
    // From an untrusted address the header is ignored: the peer's own budget applies.
    let mut direct = Raw::new(TcpStream::connect(to).await?);
    for i in 0..3 {
        let forged = format!("203.0.113.{i}");
        let r = direct
            .http(&guest(&format!("device-dir-{i:04}"), &forged))
            .await?;
        assert_eq!(r.status, 200, "direct login {i}");
    }
    let forged = direct
        .http(&guest("device-dir-9999", "203.0.113.200"))
        .await?;
    assert_eq!(
        forged.status, 429,
        "a forged X-Forwarded-For does not buy a new budget"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_diagnostics_echo_exists_only_when_asked_for() -> anyhow::Result<()> {
    let off = TestServer::start_with(plain()).await?;
    let (status, _) = off
        .call(Method::GET, "/v1/diagnostics/echo", None, None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "off by default");
    off.stop().await;

    let on = TestServer::start_with(Options {
        diagnostics: true,
        ..plain()
    })
    .await?;
    let mut raw = Raw::new(TcpStream::connect(addr(&on)?).await?);
    assert_eq!(raw.upgrade("/v1/diagnostics/echo", "").await?.status, 101);
    raw.frame(true, 0x1, "héllo".as_bytes(), true).await?;
    assert_eq!(
        raw.read_frame().await?,
        Some((0x1, "héllo".as_bytes().to_vec())),
        "text echoed"
    );
    raw.frame(false, 0x2, &[1, 2], true).await?;
    raw.frame(true, 0x9, b"p", true).await?;
    assert_eq!(
        raw.read_frame().await?,
        Some((0xa, b"p".to_vec())),
        "a ping between fragments"
    );
    raw.frame(true, 0x0, &[3], true).await?;
    assert_eq!(
        raw.read_frame().await?,
        Some((0x2, vec![1, 2, 3])),
        "fragments joined"
    );
    // The same checks as the realtime endpoint: an unmasked frame fails the connection.
    raw.frame(true, 0x2, &[9], false).await?;
    assert_eq!(raw.closed().await?.0, close::PROTOCOL_ERROR);
    on.stop().await;
    Ok(())
}
