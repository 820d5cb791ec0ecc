//! The `[cluster]` settings: how a node registers, heart-beats, drains and talks to Agones.

use serde::Deserialize;

/// Running as one node of several. Every value has a default; a single node needs none.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// The region a game node registers in (also `--region`); matches can be placed by region.
    pub region: String,
    /// Seated players a game node takes before placement passes it over. The benchmarks put
    /// one 2-core node at 3,000 clients with every snapshot delivered (BENCHMARKS.md).
    pub capacity_players: u32,
    /// Seconds between a game node's heartbeats (and between checks for dead nodes).
    pub heartbeat_interval_s: f32,
    /// Seconds without a heartbeat after which a game node is out of placement and its
    /// matches are ended.
    pub heartbeat_timeout_s: f32,
    /// Seconds a game node told to stop (SIGTERM) lets its running matches finish before it
    /// ends them; it takes no new matches meanwhile.
    pub drain_timeout_s: f32,
    /// Seconds between a game node's polls for bans, kicks and ends issued on other nodes
    /// (on PostgreSQL a NOTIFY brings them at once; the poll covers a missed one).
    pub event_poll_s: f32,
    /// The Agones SDK sidecar's REST address [default: `http://127.0.0.1:$AGONES_SDK_HTTP_PORT`,
    /// port 9358 when unset].
    pub agones_sdk_url: Option<String>,
    /// Seconds between Agones health pings (keep well under the Fleet's `health.periodSeconds`).
    pub agones_health_s: f32,
}

impl Default for ClusterSettings {
    fn default() -> ClusterSettings {
        ClusterSettings {
            region: "default".to_string(),
            capacity_players: 3000,
            heartbeat_interval_s: 1.0,
            heartbeat_timeout_s: 5.0,
            drain_timeout_s: 600.0,
            event_poll_s: 2.0,
            agones_sdk_url: None,
            agones_health_s: 2.0,
        }
    }
}

impl ClusterSettings {
    /// The problem with these settings, if any (`field: message`).
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("heartbeat_interval_s", self.heartbeat_interval_s),
            ("heartbeat_timeout_s", self.heartbeat_timeout_s),
            ("event_poll_s", self.event_poll_s),
            ("agones_health_s", self.agones_health_s),
        ];
        for (field, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("cluster.{field}: must be above 0, not {value}"));
            }
        }
        if !(self.drain_timeout_s.is_finite() && self.drain_timeout_s >= 0.0) {
            return Err(format!(
                "cluster.drain_timeout_s: must be 0 or more, not {}",
                self.drain_timeout_s
            ));
        }
        // A timeout of one interval would declare a node dead for one late heartbeat.
        if self.heartbeat_timeout_s < 2.0 * self.heartbeat_interval_s {
            return Err(format!(
                "cluster.heartbeat_timeout_s: must be at least twice heartbeat_interval_s ({} s), not {}",
                self.heartbeat_interval_s, self.heartbeat_timeout_s
            ));
        }
        if self.region.is_empty() || self.region.len() > 64 {
            return Err("cluster.region: 1 to 64 characters".to_string());
        }
        Ok(())
    }

    /// Where the Agones SDK sidecar listens.
    pub fn agones_url(&self) -> String {
        match &self.agones_sdk_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let port = std::env::var("AGONES_SDK_HTTP_PORT")
                    .ok()
                    .and_then(|p| p.parse::<u16>().ok())
                    .unwrap_or(9358);
                format!("http://127.0.0.1:{port}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_their_own_check() {
        assert_eq!(ClusterSettings::default().check(), Ok(()));
    }

    #[test]
    fn a_timeout_shorter_than_two_heartbeats_is_refused() {
        let settings = ClusterSettings {
            heartbeat_interval_s: 2.0,
            heartbeat_timeout_s: 3.0,
            ..ClusterSettings::default()
        };
        let err = settings.check().expect_err("3 s < 2 × 2 s");
        assert!(err.starts_with("cluster.heartbeat_timeout_s"), "{err}");
        let zero = ClusterSettings {
            event_poll_s: 0.0,
            ..ClusterSettings::default()
        };
        assert!(zero.check().is_err(), "a zero poll interval would spin");
    }

    #[test]
    fn the_agones_address_comes_from_the_setting_first() {
        let settings = ClusterSettings {
            agones_sdk_url: Some("http://127.0.0.1:1234/".to_string()),
            ..ClusterSettings::default()
        };
        assert_eq!(settings.agones_url(), "http://127.0.0.1:1234");
    }
}
