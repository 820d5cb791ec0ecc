//! The C ABI the JavaScript SDK calls (see `assets/web/src/sdk/core.ts`). Everything is a plain
//! number: handles, lengths, codes, and offsets into the wasm memory, where JavaScript reads
//! the world's rows and ids as typed arrays.
//!
//! Protocol: bytes go in through [`tw_buffer`] (JavaScript copies a frame, a ticket or input
//! values there, then calls the function that reads them); an encoded message comes out through
//! [`tw_output`] and the length the encoding function returned. Pointers stay valid until the
//! next call that changes what they point at. Handles are 1-based; 0 is "none".
//!
//! No `unsafe` block: the only unsafe thing is `#[unsafe(no_mangle)]`, which a C ABI needs.
#![allow(unsafe_code)]

use std::cell::RefCell;

use crate::client::Client;

thread_local! {
    // wasm runs one thread; a thread-local keeps the registry safe without locks.
    static CLIENTS: RefCell<Vec<Option<Client>>> = const { RefCell::new(Vec::new()) };
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn with_client<T>(handle: u32, default: T, f: impl FnOnce(&mut Client) -> T) -> T {
    CLIENTS.with(|clients| {
        let mut clients = clients.borrow_mut();
        match handle
            .checked_sub(1)
            .and_then(|i| clients.get_mut(i as usize))
            .and_then(Option::as_mut)
        {
            Some(client) => f(client),
            None => default,
        }
    })
}

fn input(len: u32) -> Vec<u8> {
    INPUT.with(|b| {
        let b = b.borrow();
        b[..(len as usize).min(b.len())].to_vec()
    })
}

fn output(bytes: &[u8]) -> u32 {
    OUTPUT.with(|o| {
        let mut o = o.borrow_mut();
        o.clear();
        o.extend_from_slice(bytes);
        o.len() as u32
    })
}

/// A buffer of `len` bytes for the next call's input; its address in the wasm memory.
#[unsafe(no_mangle)]
pub extern "C" fn tw_buffer(len: u32) -> *mut u8 {
    INPUT.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.resize(len as usize, 0);
        b.as_mut_ptr()
    })
}

/// The last encoded message's address (its length is what the encoding call returned).
#[unsafe(no_mangle)]
pub extern "C" fn tw_output() -> *const u8 {
    OUTPUT.with(|o| o.borrow().as_ptr())
}

/// The number of shipped games (their index is the argument of [`tw_client_new`]).
#[unsafe(no_mangle)]
pub extern "C" fn tw_games() -> u32 {
    shared::games::shipped().len() as u32
}

/// The name of shipped game `index`, written to the output; its length (0: no such game).
#[unsafe(no_mangle)]
pub extern "C" fn tw_game_name(index: u32) -> u32 {
    match shared::games::shipped().get(index as usize) {
        Some(game) => output(game.name.as_bytes()),
        None => 0,
    }
}

/// A client of shipped game `index`; its handle, or 0 for no such game.
#[unsafe(no_mangle)]
pub extern "C" fn tw_client_new(index: u32) -> u32 {
    let Some(game) = shared::games::shipped().get(index as usize).copied() else {
        return 0;
    };
    CLIENTS.with(|clients| {
        let mut clients = clients.borrow_mut();
        let client = Some(Client::new(game));
        match clients.iter().position(Option::is_none) {
            Some(free) => {
                clients[free] = client;
                free as u32 + 1
            }
            None => {
                clients.push(client);
                clients.len() as u32
            }
        }
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn tw_client_free(handle: u32) {
    CLIENTS.with(|clients| {
        if let Some(slot) = handle
            .checked_sub(1)
            .and_then(|i| clients.borrow_mut().get_mut(i as usize).map(Option::take))
        {
            drop(slot);
        }
    });
}

/// The game's protocol hash as 16 hex digits, written to the output; its length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_game_hash(handle: u32) -> u32 {
    let hex = with_client(handle, String::new(), |c| {
        format!("{:016x}", c.game().hash())
    });
    output(hex.as_bytes())
}

/// `Hello` with the ticket in the input buffer (`len` bytes of UTF-8); the output's length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_hello(handle: u32, len: u32) -> u32 {
    let ticket = String::from_utf8_lossy(&input(len)).into_owned();
    let bytes = with_client(handle, Vec::new(), |c| c.hello(&ticket).to_vec());
    output(&bytes)
}

/// `Hello` resuming the dropped session; the output's length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_resume(handle: u32) -> u32 {
    let bytes = with_client(handle, Vec::new(), |c| c.resume().to_vec());
    output(&bytes)
}

/// `Input` from `count` little-endian `i32` values in the input buffer; the output's length,
/// or 0 if the game's declaration does not admit them.
#[unsafe(no_mangle)]
pub extern "C" fn tw_input(handle: u32, count: u32) -> u32 {
    let raw = input(count.saturating_mul(4));
    let values: Vec<i32> = raw
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let bytes = with_client(handle, Vec::new(), |c| {
        c.input(&values).map(<[u8]>::to_vec).unwrap_or_default()
    });
    output(&bytes)
}

/// `Ping` with the sender's clock in microseconds (as two halves); the output's length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_ping(handle: u32, id: u32, sent_us_low: u32, sent_us_high: u32) -> u32 {
    let sent_us = u64::from(sent_us_high) << 32 | u64::from(sent_us_low);
    let bytes = with_client(handle, Vec::new(), |c| c.ping(id, sent_us).to_vec());
    output(&bytes)
}

/// The answer to the server's last ping; the output's length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_pong(handle: u32) -> u32 {
    let bytes = with_client(handle, Vec::new(), |c| c.pong().to_vec());
    output(&bytes)
}

#[unsafe(no_mangle)]
pub extern "C" fn tw_leave(handle: u32) -> u32 {
    let bytes = with_client(handle, Vec::new(), |c| c.leave().to_vec());
    output(&bytes)
}

/// `Ack` of the newest applied snapshot (a spectator's answer to a snapshot); the output's
/// length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_ack(handle: u32) -> u32 {
    let bytes = with_client(handle, Vec::new(), |c| c.ack().to_vec());
    output(&bytes)
}

/// Handles the frame of `len` bytes in the input buffer: a [`crate::Frame`] code (1 and up),
/// or a [`crate::ClientError`] code (below 0).
#[unsafe(no_mangle)]
pub extern "C" fn tw_receive(handle: u32, len: u32) -> i32 {
    let bytes = input(len);
    with_client(handle, -5, |c| match c.receive(&bytes) {
        Ok(frame) => frame.code(),
        Err(e) => e.code(),
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn tw_player_id(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.player_id())
}

#[unsafe(no_mangle)]
pub extern "C" fn tw_tick_rate(handle: u32) -> u32 {
    with_client(handle, 0, |c| u32::from(c.tick_rate()))
}

#[unsafe(no_mangle)]
pub extern "C" fn tw_tick(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.tick().0)
}

/// -1: the last snapshot carried no checksum; 0: it did not match; 1: it matched.
#[unsafe(no_mangle)]
pub extern "C" fn tw_checksum(handle: u32) -> i32 {
    with_client(handle, -1, |c| c.last_checksum())
}

#[unsafe(no_mangle)]
pub extern "C" fn tw_desyncs(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.desyncs() as u32)
}

#[unsafe(no_mangle)]
pub extern "C" fn tw_checksums_verified(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.checksums_verified() as u32)
}

/// Entities in the world.
#[unsafe(no_mangle)]
pub extern "C" fn tw_world_len(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.world().len() as u32)
}

/// Fields per entity (the game's declaration, in order).
#[unsafe(no_mangle)]
pub extern "C" fn tw_world_fields(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.world().schema().len() as u32)
}

/// The world's rows, `len × fields` `i32`s.
#[unsafe(no_mangle)]
pub extern "C" fn tw_world_rows(handle: u32) -> *const i32 {
    with_client(handle, std::ptr::null(), |c| c.world().values().as_ptr())
}

/// The world's ids, `len` (index, version) pairs of `u32`.
#[unsafe(no_mangle)]
pub extern "C" fn tw_world_ids(handle: u32) -> *const u32 {
    with_client(handle, std::ptr::null(), |c| c.ids().as_ptr())
}

/// The last snapshot's new events as `i32`s (see [`crate::Client::events`]): their count.
#[unsafe(no_mangle)]
pub extern "C" fn tw_events_len(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.events().len() as u32)
}

#[unsafe(no_mangle)]
pub extern "C" fn tw_events(handle: u32) -> *const i32 {
    with_client(handle, std::ptr::null(), |c| c.events().as_ptr())
}

/// The name a player joined with, written to the output; its length (0: unknown).
#[unsafe(no_mangle)]
pub extern "C" fn tw_player_name(handle: u32, player: u32) -> u32 {
    let name = with_client(handle, String::new(), |c| {
        c.player_name(player).unwrap_or_default().to_string()
    });
    output(name.as_bytes())
}

/// The game's declaration as JSON (see [`crate::json::game`]), written to the output; its length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_game_json(handle: u32) -> u32 {
    let json = with_client(handle, String::new(), |c| crate::json::game(c.game()));
    output(json.as_bytes())
}

/// The handshake's answer as JSON, written to the output; its length (0 before it came).
#[unsafe(no_mangle)]
pub extern "C" fn tw_welcome_json(handle: u32) -> u32 {
    let json = with_client(handle, String::new(), |c| {
        c.welcome().map(crate::json::welcome).unwrap_or_default()
    });
    output(json.as_bytes())
}

/// The match's results as JSON, written to the output; its length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_results_json(handle: u32) -> u32 {
    let json = with_client(handle, String::new(), |c| crate::json::results(c.results()));
    output(json.as_bytes())
}

/// Why an admin removed this player, written to the output; its length (0: not kicked).
#[unsafe(no_mangle)]
pub extern "C" fn tw_kicked(handle: u32) -> u32 {
    let reason = with_client(handle, String::new(), |c| {
        c.kicked().unwrap_or_default().to_string()
    });
    output(reason.as_bytes())
}

/// The newest applied snapshot's `last_input_seq`.
#[unsafe(no_mangle)]
pub extern "C" fn tw_last_input_seq(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.last_input_seq())
}

/// The sequence number the next input gets.
#[unsafe(no_mangle)]
pub extern "C" fn tw_next_seq(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.next_seq())
}

/// The id of the last ping of ours the server answered (0: none yet).
#[unsafe(no_mangle)]
pub extern "C" fn tw_last_pong(handle: u32) -> u32 {
    with_client(handle, 0, |c| c.last_pong().unwrap_or(0))
}

/// The short name of a WebSocket close code (`shared::close::name`), written to the output; its
/// length.
#[unsafe(no_mangle)]
pub extern "C" fn tw_close_name(code: u32) -> u32 {
    let name = u16::try_from(code).map_or("other", shared::close::name);
    output(name.as_bytes())
}
