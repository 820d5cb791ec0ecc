//! A realtime player for tests: a task of its own reads the session (answering every snapshot
//! with an input, so it never falls behind while the test makes REST calls) and forwards what
//! happens.

use std::time::Duration;

use bot_client::session::{Session, SessionError, SessionEvent};
use shared::{PlayerResult, Tick, close};
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::TestServer;

/// Upper bound for anything a player waits for: generous for a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// A connected arena player.
pub struct Client {
    pub player_id: u32,
    events: mpsc::UnboundedReceiver<SessionEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How a client's connection ended.
#[derive(Debug)]
pub struct Ending {
    pub kicked: Option<String>,
    pub results: Option<Vec<PlayerResult>>,
    pub code: u16,
    pub reason: String,
}

impl Client {
    /// Takes a ticket for `match_id` as `token` and joins.
    pub async fn join(srv: &TestServer, token: &str, match_id: &str) -> anyhow::Result<Client> {
        let (ticket, url) = srv.ticket(token, match_id).await?;
        Client::connect(&url, &ticket).await
    }

    /// Joins with a ticket at `url`.
    pub async fn connect(url: &str, ticket: &str) -> anyhow::Result<Client> {
        let (mut session, welcome) =
            Session::join(url, ticket, &shared::games::arena::PROTOCOL, true).await?;
        let (tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match session.next_event().await {
                    Ok(event) => {
                        let closed = matches!(event, SessionEvent::Closed { .. });
                        if matches!(event, SessionEvent::Snapshot(_)) {
                            // A send into a closing socket is not what the tests look at.
                            let _ = session
                                .send_input(shared::InputValues::of(
                                    &shared::games::arena::ArenaInput::IDLE,
                                ))
                                .await;
                        }
                        if tx.send(event).is_err() || closed {
                            return;
                        }
                    }
                    Err(SessionError::Ended) => return,
                    // Fatal errors end the session: the next call answers Ended.
                    Err(_) => {}
                }
            }
        });
        Ok(Client {
            player_id: welcome.player_id,
            events,
            task,
        })
    }

    /// Reads until the connection closes.
    pub async fn ending(&mut self) -> anyhow::Result<Ending> {
        let (mut kicked, mut results) = (None, None);
        loop {
            match timeout(PATIENCE, self.events.recv()).await? {
                None => anyhow::bail!("the session ended without a close frame"),
                Some(SessionEvent::Kicked(reason)) => kicked = Some(reason),
                Some(SessionEvent::MatchEnd(r)) => results = Some(r),
                Some(SessionEvent::Closed { code, reason }) => {
                    return Ok(Ending {
                        kicked,
                        results,
                        code,
                        reason,
                    });
                }
                Some(_) => {}
            }
        }
    }

    /// Reads until a snapshot newer than `after`; fails if the connection closes first.
    pub async fn snapshot_after(&mut self, after: Tick) -> anyhow::Result<Tick> {
        loop {
            match timeout(PATIENCE, self.events.recv()).await? {
                None => anyhow::bail!("the session ended"),
                Some(SessionEvent::Snapshot(s)) if s.applied.tick > after => {
                    return Ok(s.applied.tick);
                }
                Some(SessionEvent::Closed { code, reason }) => {
                    anyhow::bail!("closed {code} ({}): {reason}", close::name(code))
                }
                Some(_) => {}
            }
        }
    }
}
