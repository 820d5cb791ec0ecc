//! One realtime connection: the `Hello` handshake, then one task that reads the client's
//! messages and pumps what the socket would not take of the tick's writes.

use std::sync::Arc;
use std::time::Duration;

use fastwebsockets::WebSocket;
use shared::protocol::{ClientMessage, Hello, Ping, ServerMessage};
use shared::{PROTOCOL_VERSION, close, codec};
use tokio::time::Instant;

use super::Realtime;
use super::inbound::Inbound;
use super::monotonic_us;
use super::socket::{self, Io, Reader, Refuse, Split, close_now, drain_until_closed};
use crate::matches::outbox::{Control, DirectSocket, PumpEnd};
use crate::matches::{InputMsg, Joined, MatchHandle, Outbox, RegistryError};
use crate::store::TicketClaim;

/// Runs a connection from the upgraded socket to its end.
pub(crate) async fn run(state: Realtime, ws: WebSocket<Io>) {
    let limits = state.limits.clone();
    let Split {
        mut reader,
        mut write,
        direct,
    } = socket::split(ws, limits.max_message_bytes, false);
    let Some(direct) = direct else {
        // The server makes only TCP and TLS-over-TCP connections; anything else is a bug.
        tracing::error!("a realtime connection over an unknown transport");
        close_now(&mut write, close::INTERNAL_ERROR, "unsupported transport").await;
        return;
    };

    let handshake = Duration::from_secs_f32(limits.handshake_timeout_s);
    let hello = handshake_hello(&state, &mut reader, direct);
    let joined = match tokio::time::timeout(handshake, hello).await {
        Err(_) => Err(Refuse::new(
            close::HANDSHAKE_TIMEOUT,
            format!("no Hello within {:.0} s", limits.handshake_timeout_s),
        )),
        Ok(result) => result,
    };
    let (handle, outbox, joined) = match joined {
        Ok(ok) => ok,
        Err(Refuse(code, reason)) => {
            close_now(&mut write, code, &reason).await;
            drain_until_closed(&mut reader).await;
            return;
        }
    };

    state.metrics.clients_connected.inc();
    let stall = stall_timeout(&state, handle.tick_rate);
    // The tick writes into the socket; this task reads, and pumps what the socket would not
    // take at once: one task per connection.
    drop(write);
    let left = read_loop(&state, &mut reader, &handle, &outbox, &joined, stall).await;
    if left {
        handle.leave(joined.player_id, joined.conn).await;
    } else {
        handle.disconnected(joined.player_id, joined.conn).await;
    }
    // The close that was asked for goes out, then the connection ends.
    if tokio::time::timeout(stall, outbox.pump(stall)).await != Ok(PumpEnd::Closed) {
        state.metrics.clients_dropped.inc();
    }
    drain_until_closed(&mut reader).await;
    state.metrics.clients_connected.dec();
}

/// How long a write may make no progress before the client counts as not reading.
fn stall_timeout(state: &Realtime, tick_rate: u16) -> Duration {
    let ticks = state.limits.max_ticks_behind.max(1);
    let rate = f64::from(tick_rate);
    Duration::from_secs_f64((f64::from(ticks) / rate).max(1.0))
}

/// Waits for `Hello` and joins or resumes.
async fn handshake_hello(
    state: &Realtime,
    reader: &mut Reader,
    direct: DirectSocket,
) -> Result<(MatchHandle, Arc<Outbox>, Joined), Refuse> {
    let first = reader.next().await.map_err(socket::refusal)?;
    let bytes = match first {
        Inbound::Binary(bytes) => bytes,
        Inbound::Close { .. } => return Err(Refuse::new(close::NORMAL, "closed before Hello")),
        Inbound::Ping(_) | Inbound::Text(_) => {
            return Err(Refuse::new(
                close::EXPECTED_HELLO,
                "the first message must be Hello",
            ));
        }
    };
    let hello = match codec::decode_client(&bytes) {
        Ok(ClientMessage::Hello(hello)) => hello,
        Ok(_) => {
            return Err(Refuse::new(
                close::EXPECTED_HELLO,
                "the first message must be Hello",
            ));
        }
        Err(e) => {
            return Err(Refuse::new(
                close::MALFORMED,
                format!("cannot decode Hello: {e}"),
            ));
        }
    };
    let Hello {
        protocol_version,
        ticket,
        resume,
        game_hash,
    } = hello;
    if protocol_version != PROTOCOL_VERSION {
        return Err(Refuse::new(
            close::PROTOCOL_VERSION,
            format!(
                "protocol version {protocol_version} is not supported; this server speaks {PROTOCOL_VERSION}"
            ),
        ));
    }
    let outbox = Outbox::new(direct);
    if let Some(resume) = resume {
        let handle = state
            .registry
            .for_token(&resume.reconnect_token)
            .ok_or_else(|| {
                Refuse::new(close::INVALID_RECONNECT, "the reconnect token is not valid")
            })?;
        check_game(&handle, game_hash)?;
        let joined = handle
            .resume(resume.reconnect_token, resume.ack_tick, outbox.clone())
            .await
            .map_err(registry_refusal)?;
        return Ok((handle, outbox, joined));
    }

    let now = state.clock.now_ms();
    let (account_id, match_id) = match state.store.redeem_ticket(&ticket, now).await {
        Ok(TicketClaim::Valid {
            account_id,
            match_id,
        }) => (account_id, match_id),
        Ok(TicketClaim::Unknown) => {
            return Err(Refuse::new(
                close::INVALID_TICKET,
                "the join ticket is not valid",
            ));
        }
        Ok(TicketClaim::AlreadyUsed) => {
            return Err(Refuse::new(
                close::TICKET_USED,
                "the join ticket was already used",
            ));
        }
        Ok(TicketClaim::Expired) => {
            return Err(Refuse::new(
                close::TICKET_EXPIRED,
                "the join ticket has expired",
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "redeeming a ticket failed");
            return Err(Refuse::new(
                close::INTERNAL_ERROR,
                "the server could not check the ticket",
            ));
        }
    };
    let account = match state.store.account_by_id(account_id).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            return Err(Refuse::new(
                close::INVALID_TICKET,
                "the account no longer exists",
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "reading an account failed");
            return Err(Refuse::new(
                close::INTERNAL_ERROR,
                "the server could not read the account",
            ));
        }
    };
    if account.banned_at(now) {
        return Err(Refuse::new(close::BANNED, "this account is banned"));
    }
    let handle = state
        .registry
        .get_or_start(&match_id)
        .await
        .map_err(registry_refusal)?;
    check_game(&handle, game_hash)?;
    let joined = handle
        .join(account.id, account.username, outbox.clone())
        .await
        .map_err(registry_refusal)?;
    Ok((handle, outbox, joined))
}

/// Refuses a client built for another game (or other declarations of this one): it would
/// misread every frame.
fn check_game(handle: &MatchHandle, client_hash: Option<u64>) -> Result<(), Refuse> {
    match client_hash {
        Some(hash) if hash != handle.game_hash => Err(Refuse::new(
            close::GAME_MISMATCH,
            format!(
                "this match plays {} (protocol hash {:016x}); the client was built for {hash:016x}",
                handle.protocol.name, handle.game_hash
            ),
        )),
        _ => Ok(()),
    }
}

fn registry_refusal(e: RegistryError) -> Refuse {
    match e {
        RegistryError::Ended => Refuse::new(close::MATCH_ENDED, "the match has ended"),
        RegistryError::InvalidReconnect => Refuse::new(
            close::INVALID_RECONNECT,
            "the reconnect token is not valid or its seat is gone",
        ),
        RegistryError::ShuttingDown => {
            Refuse::new(close::GOING_AWAY, "the server is shutting down")
        }
        RegistryError::Full
        | RegistryError::NotFound
        | RegistryError::UnknownMap(_)
        | RegistryError::UnknownGame(_)
        | RegistryError::Refused(_) => Refuse::new(close::MATCH_UNAVAILABLE, e.to_string()),
        RegistryError::Store(err) => {
            tracing::error!(error = %err, "starting a match failed");
            Refuse::new(
                close::INTERNAL_ERROR,
                "the server could not start the match",
            )
        }
    }
}

/// Pings per second a client may send besides its inputs before it counts as a flood.
const PING_ALLOWANCE: u32 = 10;

/// Counts messages per one-second window.
struct InputRate {
    window_start: Instant,
    count: u32,
    max: u32,
}

impl InputRate {
    fn allow(&mut self, now: Instant) -> bool {
        if now.duration_since(self.window_start) >= Duration::from_secs(1) {
            self.window_start = now;
            self.count = 0;
        }
        self.count += 1;
        self.count <= self.max
    }
}

/// How often a session checks for silence: a quarter of the idle timeout (at most a second), so
/// a silent client is closed between one and one and a quarter idle timeouts after its last
/// message, at the cost of one timer per connection per period instead of one per message.
fn idle_check_period(idle: Duration) -> Duration {
    (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

/// Reads until the connection ends. Answers `true` if the client left with `Leave`.
async fn read_loop(
    state: &Realtime,
    reader: &mut Reader,
    handle: &MatchHandle,
    outbox: &Arc<Outbox>,
    joined: &Joined,
    stall: Duration,
) -> bool {
    let limits = &state.limits;
    let idle = Duration::from_secs_f32(limits.idle_timeout_s);
    // One input per tick is normal play; the floor keeps a low configured limit from dropping
    // honest clients of a fast match, and the allowance covers their pings.
    let mut rate = InputRate {
        window_start: Instant::now(),
        count: 0,
        max: limits
            .max_inputs_per_second
            .max(2 * u32::from(handle.tick_rate))
            + PING_ALLOWANCE,
    };
    let mut last_seq: Option<u32> = None;
    // The connection's end from the writing side: the pump wrote the close (or found the socket
    // broken).
    let ended = outbox.pump(stall);
    tokio::pin!(ended);
    let period = idle_check_period(idle);
    let idle_check = tokio::time::sleep(period);
    tokio::pin!(idle_check);
    let (mut received, mut seen, mut silent) = (0u64, 0u64, Duration::ZERO);
    loop {
        // Reading a frame is not cancel-safe (a half-read head would be lost), so the read
        // survives the idle checks and is dropped only when the connection ends.
        let read = reader.next();
        tokio::pin!(read);
        let next = loop {
            // Biased, the read first: a wake for a message polls nothing else.
            tokio::select! {
                biased;
                next = &mut read => break next,
                _ = &mut ended => return false,
                _ = &mut idle_check => {
                    silent = if received == seen { silent + period } else { Duration::ZERO };
                    seen = received;
                    if silent >= idle {
                        outbox.close(
                            close::IDLE_TIMEOUT,
                            format!("nothing received for {:.0} s", limits.idle_timeout_s),
                        );
                        return false;
                    }
                    idle_check.as_mut().reset(Instant::now() + period);
                }
            }
        };
        received += 1;
        let inbound = match next {
            Err(e) => {
                let Refuse(code, reason) = socket::refusal(e);
                if code != close::NORMAL {
                    state.metrics.clients_dropped.inc();
                }
                outbox.close(code, reason);
                return false;
            }
            Ok(inbound) => inbound,
        };
        // Every message costs the server work (a ping a pong, an input a queue slot), so the
        // flood limit counts them all: one input per tick plus a few pings is normal play.
        if matches!(inbound, Inbound::Binary(_) | Inbound::Ping(_)) && !rate.allow(Instant::now()) {
            state.metrics.clients_dropped.inc();
            outbox.close(
                close::INPUT_FLOOD,
                format!("more than {} messages per second", rate.max),
            );
            return false;
        }
        let bytes = match inbound {
            Inbound::Binary(bytes) => bytes,
            Inbound::Ping(payload) => {
                outbox.push_control(Control::Pong(payload.into()));
                continue;
            }
            Inbound::Text(_) => {
                // The reader of this endpoint refuses text before it gets here.
                outbox.close(close::UNSUPPORTED_DATA, "send binary frames");
                return false;
            }
            Inbound::Close { code, reason } => {
                tracing::debug!(code, %reason, "client closed the connection");
                outbox.close(close::NORMAL, "closed by the client");
                return false;
            }
        };
        let msg = match codec::decode_client(&bytes) {
            Ok(msg) => msg,
            Err(e) => {
                state.metrics.clients_dropped.inc();
                outbox.close(close::MALFORMED, format!("cannot decode message: {e}"));
                return false;
            }
        };
        match msg {
            ClientMessage::Input(input) => {
                state.metrics.inputs_received.inc();
                // The game's input declaration says what is valid: its field count and ranges.
                if !handle.protocol.input.admits(input.values.as_slice()) {
                    state.metrics.clients_dropped.inc();
                    outbox.close(
                        close::INVALID_INPUT,
                        format!(
                            "input values out of the ranges {} declares",
                            handle.protocol.name
                        ),
                    );
                    return false;
                }
                outbox.acked().set_ack(input.ack_tick);
                // Sequence numbers only go up; a repeat or an older one is ignored.
                if last_seq.is_some_and(|s| input.seq <= s) {
                    continue;
                }
                last_seq = Some(input.seq);
                let sent = handle.try_input(InputMsg {
                    player_id: joined.player_id,
                    conn: joined.conn,
                    input,
                });
                if !sent {
                    state.metrics.inputs_dropped.inc();
                }
            }
            ClientMessage::Ping(ping) => {
                let pong = codec::encode_server(&ServerMessage::Pong(ping));
                outbox.push_control(Control::Message(pong.into()));
            }
            ClientMessage::Pong(Ping { sent_us, .. }) => {
                let rtt_us = monotonic_us().saturating_sub(sent_us);
                state.metrics.rtt_seconds.observe(rtt_us as f64 / 1e6);
            }
            ClientMessage::Leave => return true,
            ClientMessage::Hello(_) => {
                state.metrics.clients_dropped.inc();
                outbox.close(close::EXPECTED_HELLO, "Hello was already sent");
                return false;
            }
        }
    }
}
