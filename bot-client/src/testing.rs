//! A tiny in-process WebSocket server for this crate's tests: every accepted connection runs a
//! script against a server-side fastwebsockets `WebSocket`. Loopback only, plain or TLS with a
//! fresh self-signed certificate. Scripts report what they saw through channels; the tests
//! assert.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fastwebsockets::{Frame, OpCode, Payload, WebSocket, WebSocketError};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use shared::codec;
use shared::{ClientMessage, ServerMessage};

/// The server side of a test connection.
pub(crate) type ServerWs = WebSocket<TokioIo<Upgraded>>;

/// Most frames a script reads before it gives up.
pub(crate) const MAX_FRAMES: usize = 1000;
/// Most connections a test server accepts.
const MAX_CONNECTIONS: usize = 16;
/// Longest any single test step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// A listening test server; dropping it stops accepting.
pub(crate) struct TestServer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl TestServer {
    pub(crate) fn ws_url(&self) -> String {
        format!("ws://{}/v1/realtime", self.addr)
    }

    pub(crate) fn wss_url(&self) -> String {
        format!("wss://{}/v1/realtime", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Awaits `fut`, failing the test if it takes longer than a generous step timeout.
pub(crate) async fn within<F: Future>(fut: F) -> F::Output {
    tokio::time::timeout(STEP_TIMEOUT, fut)
        .await
        .expect("test step timed out")
}

/// A plain `ws://` server running `script` for each connection.
pub(crate) async fn serve<F, Fut>(script: F) -> TestServer
where
    F: Fn(ServerWs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    start(None, script).await
}

/// A `wss://` server with a fresh self-signed certificate running `script` for each connection.
pub(crate) async fn serve_tls<F, Fut>(script: F) -> TestServer
where
    F: Fn(ServerWs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    start(Some(TlsAcceptor::from(self_signed_config())), script).await
}

/// A server that answers every request with `status` instead of upgrading.
pub(crate) async fn serve_status(status: u16) -> TestServer {
    let listener = bind().await;
    let addr = listener.local_addr().expect("local address");
    let accept = tokio::spawn(async move {
        for _ in 0..MAX_CONNECTIONS {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = service_fn(move |_req: Request<Incoming>| async move {
                    let mut response = Response::new(Empty::<Bytes>::new());
                    *response.status_mut() =
                        StatusCode::from_u16(status).expect("a valid test status");
                    Ok::<_, std::convert::Infallible>(response)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    TestServer { addr, accept }
}

/// One frame from the client as (opcode, unmasked payload); `None` once the connection fails.
pub(crate) async fn read_client_frame(ws: &mut ServerWs) -> Option<(OpCode, Vec<u8>)> {
    let frame = ws.read_frame().await.ok()?;
    Some((frame.opcode, frame.payload.to_vec()))
}

/// The next client message, skipping control frames; `None` if the connection ends or a frame
/// does not decode.
pub(crate) async fn read_client(ws: &mut ServerWs) -> Option<ClientMessage> {
    for _ in 0..MAX_FRAMES {
        let (opcode, payload) = read_client_frame(ws).await?;
        match opcode {
            OpCode::Binary => return codec::decode_client(&payload).ok(),
            OpCode::Close => return None,
            _ => continue,
        }
    }
    None
}

/// Sends one server message as a binary frame.
pub(crate) async fn send_server(
    ws: &mut ServerWs,
    msg: &ServerMessage,
) -> Result<(), WebSocketError> {
    ws.write_frame(Frame::binary(Payload::Owned(codec::encode_server(msg))))
        .await?;
    ws.flush().await
}

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port")
}

async fn start<F, Fut>(tls: Option<TlsAcceptor>, script: F) -> TestServer
where
    F: Fn(ServerWs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = bind().await;
    let addr = listener.local_addr().expect("local address");
    let script = Arc::new(script);
    let accept = tokio::spawn(async move {
        for _ in 0..MAX_CONNECTIONS {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            serve_http(stream, script).await;
                        }
                    }
                    None => serve_http(tcp, script).await,
                }
            });
        }
    });
    TestServer { addr, accept }
}

/// HTTP/1.1 on `stream`: every request is upgraded and its WebSocket handed to `script`.
async fn serve_http<S, F, Fut>(stream: S, script: Arc<F>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(ServerWs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let service = service_fn(move |mut req: Request<Incoming>| {
        let script = script.clone();
        async move {
            let (response, upgrade) = fastwebsockets::upgrade::upgrade(&mut req)?;
            tokio::spawn(async move {
                if let Ok(ws) = upgrade.await {
                    script(ws).await;
                }
            });
            Ok::<_, WebSocketError>(response)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

/// A rustls server configuration with a fresh self-signed certificate for localhost and
/// 127.0.0.1, offering HTTP/1.1.
pub(crate) fn self_signed_config() -> Arc<ServerConfig> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("self-signed certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}
