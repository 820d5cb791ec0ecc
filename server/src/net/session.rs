//! One realtime connection: the `Hello` handshake, then the match's tick reads and writes the
//! socket itself while this task only finishes writes a full socket would not take, and, when
//! the match lets go of the connection, the closing handshake. One task per connection, woken
//! only when the socket backs up and when the connection ends.

use std::time::Duration;

use fastwebsockets::WebSocket;
use shared::protocol::{ClientMessage, Hello};
use shared::{PROTOCOL_VERSION, Tick, close, codec};
use tokio::sync::oneshot;

use super::Realtime;
use super::inbound::Inbound;
use super::inlet::{InletLimits, SocketInlet};
use super::socket::{self, Io, Reader, Refuse, Split, close_now, drain_until_closed};
use crate::matches::outbox::PumpEnd;
use crate::matches::{MatchHandle, Outbox, RegistryError};
use crate::store::{TicketClaim, TicketSeat};

/// The seat a `Hello` asks for.
enum Seat {
    Join {
        account_id: i64,
        username: String,
    },
    Resume {
        token: String,
        ack: Tick,
    },
    Spectate {
        account_id: i64,
        follow: Option<u32>,
    },
}

/// Runs a connection from the upgraded socket to its end.
pub(crate) async fn run(state: Realtime, ws: WebSocket<Io>) {
    let limits = state.limits.clone();
    let Split {
        mut reader,
        mut write,
        direct,
    } = match socket::split(ws, limits.max_message_bytes, false) {
        Ok(split) => split,
        Err(e) => {
            // Dropping the socket closes it; the client sees an abnormal close and may retry.
            tracing::warn!(error = %e, "could not set up a realtime connection");
            return;
        }
    };
    let Some(direct) = direct else {
        // The server makes only TCP and TLS-over-TCP connections; anything else is a bug.
        tracing::error!("a realtime connection over an unknown transport");
        close_now(&mut write, close::INTERNAL_ERROR, "unsupported transport").await;
        return;
    };

    let handshake = Duration::from_secs_f32(limits.handshake_timeout_s);
    let admitted = match tokio::time::timeout(handshake, handshake_hello(&state, &mut reader)).await
    {
        Err(_) => Err(Refuse::new(
            close::HANDSHAKE_TIMEOUT,
            format!("no Hello within {:.0} s", limits.handshake_timeout_s),
        )),
        Ok(result) => result,
    };
    let (handle, seat) = match admitted {
        Ok(ok) => ok,
        Err(Refuse(code, reason)) => {
            close_now(&mut write, code, &reason).await;
            drain_until_closed(&mut reader).await;
            return;
        }
    };

    // From here the match's tick reads the socket through the inlet; the reader comes back
    // through `back` when the match lets go of the connection (or refuses it).
    let outbox = Outbox::new(direct);
    let (back, reader_back) = oneshot::channel();
    let inlet = Box::new(SocketInlet::new(
        reader,
        back,
        outbox.clone(),
        handle.protocol,
        state.metrics.clone(),
        InletLimits {
            idle: Duration::from_secs_f32(limits.idle_timeout_s),
            max_inputs_per_second: limits.max_inputs_per_second,
            tick_rate: handle.tick_rate,
        },
    ));
    let joined = match seat {
        Seat::Join {
            account_id,
            username,
        } => {
            handle
                .join(account_id, username, outbox.clone(), inlet)
                .await
        }
        Seat::Resume { token, ack } => handle.resume(token, ack, outbox.clone(), inlet).await,
        Seat::Spectate { account_id, follow } => {
            handle
                .spectate(account_id, follow, outbox.clone(), inlet)
                .await
        }
    };
    if let Err(e) = joined {
        let Refuse(code, reason) = registry_refusal(e);
        close_now(&mut write, code, &reason).await;
        if let Ok(mut reader) = reader_back.await {
            drain_until_closed(&mut reader).await;
        }
        return;
    }

    state.metrics.clients_connected.inc();
    drop(write);
    let stall = stall_timeout(&state, handle.tick_rate);
    let (pumped, reader) = until_let_go(&outbox, reader_back, stall).await;
    if pumped != PumpEnd::Closed {
        state.metrics.clients_dropped.inc();
    }
    if let Some(mut reader) = reader {
        drain_until_closed(&mut reader).await;
    }
    state.metrics.clients_connected.dec();
}

/// Pumps what the socket would not take at once until the match has let go of the connection
/// and its close is out (or the socket failed, or would not take the close within `stall`).
async fn until_let_go(
    outbox: &Outbox,
    mut reader_back: oneshot::Receiver<Reader>,
    stall: Duration,
) -> (PumpEnd, Option<Reader>) {
    let pump = outbox.pump(stall);
    tokio::pin!(pump);
    tokio::select! {
        reader = &mut reader_back => {
            // Whoever let go asked for the close (a match that stopped without one gets this
            // one: the first close asked for wins).
            outbox.close(close::GOING_AWAY, "the match let go of the connection");
            let pumped = tokio::time::timeout(stall, pump)
                .await
                .unwrap_or(PumpEnd::Broken);
            (pumped, reader.ok())
        }
        pumped = &mut pump => {
            // The socket broke or the close is out; the match lets go at its next tick.
            (pumped, reader_back.await.ok())
        }
    }
}

/// How long a write may make no progress before the client counts as not reading.
fn stall_timeout(state: &Realtime, tick_rate: u16) -> Duration {
    let ticks = state.limits.max_ticks_behind.max(1);
    let rate = f64::from(tick_rate);
    Duration::from_secs_f64((f64::from(ticks) / rate).max(1.0))
}

/// Waits for `Hello` and checks what it presents: the match and the seat it asks for.
async fn handshake_hello(
    state: &Realtime,
    reader: &mut Reader,
) -> Result<(MatchHandle, Seat), Refuse> {
    let first = loop {
        match reader.next().await.map_err(socket::refusal)? {
            // An unasked-for pong is not a message.
            Inbound::Pong => continue,
            other => break other,
        }
    };
    let bytes = match first {
        Inbound::Binary(bytes) => bytes,
        Inbound::Close { .. } => return Err(Refuse::new(close::NORMAL, "closed before Hello")),
        Inbound::Ping(_) | Inbound::Text(_) | Inbound::Pong => {
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
    if let Some(resume) = resume {
        let handle = state
            .registry
            .for_token(&resume.reconnect_token)
            .ok_or_else(|| {
                Refuse::new(close::INVALID_RECONNECT, "the reconnect token is not valid")
            })?;
        check_game(&handle, game_hash)?;
        let seat = Seat::Resume {
            token: resume.reconnect_token,
            ack: resume.ack_tick,
        };
        return Ok((handle, seat));
    }

    let now = state.clock.now_ms();
    let (account_id, match_id, kind) = match state.store.redeem_ticket(&ticket, now).await {
        Ok(TicketClaim::Valid {
            account_id,
            match_id,
            seat,
        }) => (account_id, match_id, seat),
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
    if let TicketSeat::Spectator { follow } = kind {
        // Watching never starts a match: there would be nothing to see.
        let handle = state.registry.get(&match_id).ok_or_else(|| {
            Refuse::new(
                close::MATCH_UNAVAILABLE,
                "the match is not running (yet, or any more)",
            )
        })?;
        check_game(&handle, game_hash)?;
        let seat = Seat::Spectate {
            account_id: account.id,
            follow,
        };
        return Ok((handle, seat));
    }
    let handle = state
        .registry
        .get_or_start(&match_id)
        .await
        .map_err(registry_refusal)?;
    check_game(&handle, game_hash)?;
    let seat = Seat::Join {
        account_id: account.id,
        username: account.username,
    };
    Ok((handle, seat))
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
        | RegistryError::OtherNode
        | RegistryError::NoMatchesHere
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
