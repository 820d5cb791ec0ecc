//! Open connections per client address, capped: one address opening thousands of idle sockets
//! must not exhaust the server's descriptors and memory for everyone else.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Clone)]
pub(crate) struct Connections {
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
    max: u32,
}

/// One connection's place in its address's count; given back on drop. Requests carry it (as an
/// `Arc`) so a WebSocket session, which outlives its HTTP connection's task, keeps it.
#[derive(Debug)]
pub(crate) struct ConnSlot {
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
    ip: IpAddr,
}

impl Connections {
    pub(crate) fn new(max: u32) -> Connections {
        Connections {
            open: Arc::default(),
            max,
        }
    }

    pub(crate) fn max(&self) -> u32 {
        self.max
    }

    /// A slot for one more connection from `ip`, or `None` at the cap.
    pub(crate) fn acquire(&self, ip: IpAddr) -> Option<ConnSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ConnSlot {
            open: self.open.clone(),
            ip,
        })
    }

    /// Connections open from `ip`.
    #[cfg(test)]
    pub(crate) fn open(&self, ip: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_per_address_and_slots_come_back() {
        let conns = Connections::new(2);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let first = conns.acquire(a).expect("one");
        let _second = conns.acquire(a).expect("two");
        assert!(conns.acquire(a).is_none(), "a third from the same address");
        assert!(
            conns.acquire(b).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert_eq!(conns.open(a), 1);
        assert!(
            conns.acquire(a).is_some(),
            "a slot given back is free again"
        );
    }
}
