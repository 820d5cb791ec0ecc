//! How a bot gets a seat in a match of the run's game: quick-join, or with `--map`, fill
//! matches of that map that this run creates, one at a time, creating the next when the
//! current one is full or over.

use tokio::sync::Mutex;

use crate::rest::{JoinTicket, RestClient, RestError};

/// Attempts to find a seat on the chosen map before giving up (each attempt is one or two
/// REST calls).
const MAX_ATTEMPTS: usize = 4;

/// The run's way into matches; shared by every bot.
#[derive(Debug)]
pub(crate) struct Lobby {
    rest: RestClient,
    game: &'static str,
    map: Option<String>,
    /// The match on `map` being filled. A tokio mutex: it is held across the REST call that
    /// creates the next match, so concurrent bots wait for that one instead of each creating
    /// their own.
    current: Mutex<Option<String>>,
}

impl Lobby {
    pub(crate) fn new(rest: RestClient, game: &'static str, map: Option<String>) -> Lobby {
        Lobby {
            rest,
            game,
            map,
            current: Mutex::new(None),
        }
    }

    /// A seat and its join ticket for the player with access token `token`.
    pub(crate) async fn ticket(&self, token: &str) -> Result<JoinTicket, RestError> {
        let Some(map) = &self.map else {
            return self.rest.quick_join(token, Some(self.game), None).await;
        };
        let mut last_error = None;
        for _ in 0..MAX_ATTEMPTS {
            let current = self.current.lock().await.clone();
            if let Some(match_id) = &current {
                match self.rest.join_match(token, match_id).await {
                    Ok(ticket) => return Ok(ticket),
                    Err(e)
                        if matches!(
                            e.code(),
                            Some("match_full" | "match_ended" | "match_not_found")
                        ) =>
                    {
                        last_error = Some(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            let mut guard = self.current.lock().await;
            // Another bot may have replaced the match while this one was trying it.
            if *guard == current {
                *guard = Some(
                    self.rest
                        .create_match(token, Some(self.game), Some(map), true)
                        .await?,
                );
            }
        }
        // At least one attempt failed with a seat error to get here, or a create succeeded
        // every time and each join found the match full: report the last seat error.
        Err(last_error.unwrap_or_else(|| RestError::Status {
            route: "POST /v1/matches/{match_id}/join",
            status: 409,
            code: "match_full".into(),
            message: "every match tried was full".into(),
        }))
    }
}
