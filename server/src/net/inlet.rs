//! A realtime connection's reading side once its player is seated: the match's tick reads it
//! through [`SocketInlet`] without blocking, and everything a message means on the wire is
//! decided here (pings, flood limit, the game's input declaration, sequence numbers, silence).
//! When the match lets go of the connection, the reader goes back to the session, which
//! finishes the closing handshake.

use std::sync::Arc;
use std::time::Duration;

use shared::close;
use shared::codec;
use shared::protocol::{ClientMessage, Input, Ping, ServerMessage};
use shared::schema::GameProtocol;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::inbound::{Inbound, InboundError};
use super::monotonic_us;
use super::socket::{self, Reader, Refuse};
use crate::matches::outbox::Control;
use crate::matches::{Inlet, LinkEnd, Outbox};
use crate::metrics::Metrics;

/// Pings per second a client may send besides its inputs before it counts as a flood.
const PING_ALLOWANCE: u32 = 10;

/// Counts messages per one-second window.
#[derive(Debug)]
struct MessageRate {
    window_start: Instant,
    count: u32,
    max: u32,
}

impl MessageRate {
    fn allow(&mut self, now: Instant) -> bool {
        if now.duration_since(self.window_start) >= Duration::from_secs(1) {
            self.window_start = now;
            self.count = 0;
        }
        self.count += 1;
        self.count <= self.max
    }
}

/// What the inlet knows of its client besides the socket.
#[derive(Debug)]
struct Client {
    outbox: Arc<Outbox>,
    protocol: &'static GameProtocol,
    metrics: Metrics,
    rate: MessageRate,
    last_seq: Option<u32>,
    last_heard: Instant,
    idle: Duration,
}

pub(super) struct SocketInlet {
    reader: Option<Reader>,
    /// Where the reader goes when the match lets go of the connection.
    back: Option<oneshot::Sender<Reader>>,
    client: Client,
}

/// The limits an inlet enforces.
pub(super) struct InletLimits {
    pub(super) idle: Duration,
    pub(super) max_inputs_per_second: u32,
    pub(super) tick_rate: u16,
}

impl SocketInlet {
    pub(super) fn new(
        reader: Reader,
        back: oneshot::Sender<Reader>,
        outbox: Arc<Outbox>,
        protocol: &'static GameProtocol,
        metrics: Metrics,
        limits: InletLimits,
    ) -> SocketInlet {
        let now = Instant::now();
        SocketInlet {
            reader: Some(reader),
            back: Some(back),
            client: Client {
                outbox,
                protocol,
                metrics,
                // One input per tick is normal play; the floor keeps a low configured limit
                // from dropping honest clients of a fast match, and the allowance covers pings.
                rate: MessageRate {
                    window_start: now,
                    count: 0,
                    max: limits
                        .max_inputs_per_second
                        .max(2 * u32::from(limits.tick_rate))
                        + PING_ALLOWANCE,
                },
                last_seq: None,
                last_heard: now,
                idle: limits.idle,
            },
        }
    }
}

impl std::fmt::Debug for SocketInlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketInlet")
            .field("reading", &self.reader.is_some())
            .field("client", &self.client)
            .finish()
    }
}

impl Drop for SocketInlet {
    fn drop(&mut self) {
        if let (Some(reader), Some(back)) = (self.reader.take(), self.back.take()) {
            // The session may be gone already (shutdown); then the socket just closes.
            let _ = back.send(reader);
        }
    }
}

impl Inlet for SocketInlet {
    fn read(&mut self, now: Instant, input: &mut dyn FnMut(Input)) -> Option<LinkEnd> {
        let Some(reader) = self.reader.as_mut() else {
            return Some(LinkEnd::Dropped);
        };
        let client = &mut self.client;
        let mut inputs = 0u64;
        // Bounded: every message counts against the flood limit, which ends the connection.
        let end = loop {
            let Some(next) = reader.try_next() else {
                break None;
            };
            client.last_heard = now;
            if let Some(end) = client.heard(next, now, input, &mut inputs) {
                break Some(end);
            }
        };
        client.metrics.inputs_received.inc_by(inputs);
        if end.is_some() {
            return end;
        }
        if now.duration_since(client.last_heard) >= client.idle {
            client.outbox.close(
                close::IDLE_TIMEOUT,
                format!("nothing received for {:.0} s", client.idle.as_secs_f32()),
            );
            return Some(LinkEnd::Dropped);
        }
        None
    }
}

impl Client {
    /// Closes the connection with `code` after a client's fault.
    fn refuse(&self, code: u16, reason: impl Into<String>) -> Option<LinkEnd> {
        self.metrics.clients_dropped.inc();
        self.outbox.close(code, reason);
        Some(LinkEnd::Dropped)
    }

    /// Acts on one message; `Some` if it ended the connection.
    fn heard(
        &mut self,
        next: Result<Inbound, InboundError>,
        now: Instant,
        input: &mut dyn FnMut(Input),
        inputs: &mut u64,
    ) -> Option<LinkEnd> {
        let inbound = match next {
            Ok(inbound) => inbound,
            Err(e) => {
                let Refuse(code, reason) = socket::refusal(e);
                if code != close::NORMAL {
                    self.metrics.clients_dropped.inc();
                }
                self.outbox.close(code, reason);
                return Some(LinkEnd::Dropped);
            }
        };
        // Every message costs the server work (a ping a pong, an input a queue slot), so the
        // flood limit counts them all: one input per tick plus a few pings is normal play.
        if !matches!(inbound, Inbound::Close { .. }) && !self.rate.allow(now) {
            let max = self.rate.max;
            return self.refuse(
                close::INPUT_FLOOD,
                format!("more than {max} messages per second"),
            );
        }
        let bytes = match inbound {
            Inbound::Binary(bytes) => bytes,
            Inbound::Ping(payload) => {
                self.outbox.push_control(Control::Pong(payload.into()));
                return None;
            }
            Inbound::Pong => return None,
            // The reader of this endpoint refuses text before it gets here.
            Inbound::Text(_) => return self.refuse(close::UNSUPPORTED_DATA, "send binary frames"),
            Inbound::Close { code, reason } => {
                tracing::debug!(code, %reason, "client closed the connection");
                self.outbox.close(close::NORMAL, "closed by the client");
                return Some(LinkEnd::Dropped);
            }
        };
        let msg = match codec::decode_client(&bytes) {
            Ok(msg) => msg,
            Err(e) => return self.refuse(close::MALFORMED, format!("cannot decode message: {e}")),
        };
        match msg {
            ClientMessage::Input(msg) => {
                *inputs += 1;
                // The game's input declaration says what is valid: its field count and ranges.
                if !self.protocol.input.admits(msg.values.as_slice()) {
                    let name = self.protocol.name;
                    return self.refuse(
                        close::INVALID_INPUT,
                        format!("input values out of the ranges {name} declares"),
                    );
                }
                self.outbox.acked().set_ack(msg.ack_tick);
                // Sequence numbers only go up; a repeat or an older one is ignored.
                if self.last_seq.is_some_and(|s| msg.seq <= s) {
                    return None;
                }
                self.last_seq = Some(msg.seq);
                input(msg);
            }
            ClientMessage::Ping(ping) => {
                let pong = codec::encode_server(&ServerMessage::Pong(ping));
                self.outbox.push_control(Control::Message(pong.into()));
            }
            ClientMessage::Pong(Ping { sent_us, .. }) => {
                let rtt_us = monotonic_us().saturating_sub(sent_us);
                self.metrics.rtt_seconds.observe(rtt_us as f64 / 1e6);
            }
            ClientMessage::Leave => {
                self.outbox.close(close::NORMAL, "left the match");
                return Some(LinkEnd::Left);
            }
            ClientMessage::Ack(tick) => self.outbox.acked().set_ack(tick),
            ClientMessage::Hello(_) => {
                return self.refuse(close::EXPECTED_HELLO, "Hello was already sent");
            }
        }
        None
    }
}
