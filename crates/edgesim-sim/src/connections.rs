//! Connection set-up on both legs of a request: what a new connection
//! costs in round trips, which requests find one open, and CloudFront's
//! keep-alive pools towards origins. Pure state in virtual time, kept per
//! region (a viewer's connections are at its PoP, which is in one region),
//! so results are the same for any number of agents.
//!
//! Round trips before the request can go (the request itself is the
//! round trip every request pays):
//!
//! | protocol                  | new, full | new, resumed |
//! |---------------------------|-----------|--------------|
//! | TCP + TLS 1.2 (RFC 5246)  | 1 + 2     | 1 + 1        |
//! | TCP + TLS 1.3 (RFC 8446)  | 1 + 1     | 1 + 1        |
//! | QUIC, HTTP/3 (RFC 9001)   | 1         | 0 (0-RTT)    |
//!
//! TLS 1.3 early data over TCP is not modelled (resumption still takes
//! its one round trip); QUIC's handshake is counted as connect time.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use edgesim_model::rng::{mix64, unit_f64};
use edgesim_model::scenario::Connections;

use crate::region::KeyHasher;

/// How a viewer reaches CloudFront.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerProtocol {
    /// HTTP/3 over QUIC.
    Http3,
    /// HTTP/1.1 or HTTP/2 over TCP and TLS 1.3.
    Tls13,
    /// HTTP/1.1 or HTTP/2 over TCP and TLS 1.2.
    Tls12,
}

impl ViewerProtocol {
    /// A viewer's protocol: a property of the viewer (its browser), drawn
    /// once from the scenario's mix.
    pub fn of_viewer(viewer_id: u64, shares: &[f64; 3]) -> ViewerProtocol {
        let u = unit_f64(mix64(viewer_id ^ 0x7072_6f74_6f63_6f6c));
        if u < shares[0] {
            ViewerProtocol::Http3
        } else if u < shares[0] + shares[1] {
            ViewerProtocol::Tls13
        } else {
            ViewerProtocol::Tls12
        }
    }

    /// Round trips of a new connection before the request: (transport,
    /// TLS), `resumed` when the viewer resumes an earlier session.
    pub fn handshake_rtts(self, resumed: bool) -> (u32, u32) {
        match (self, resumed) {
            (ViewerProtocol::Http3, false) => (1, 0),
            (ViewerProtocol::Http3, true) => (0, 0),
            (ViewerProtocol::Tls13, _) => (1, 1),
            (ViewerProtocol::Tls12, false) => (1, 2),
            (ViewerProtocol::Tls12, true) => (1, 1),
        }
    }
}

/// How a request's viewer connection was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerLeg {
    /// An open connection (of the same page, or still open since the
    /// viewer's last request to this PoP).
    Reused,
    /// A new connection; `resumed` when its TLS session is resumed.
    New {
        /// The viewer had a session with this PoP recently enough.
        resumed: bool,
    },
}

/// A viewer's last connection to one PoP.
#[derive(Debug, Clone, Copy)]
struct ViewerConnection {
    /// It stays open until then, µs.
    open_until_us: u64,
    /// Its TLS session can be resumed until then, µs.
    resumable_until_us: u64,
}

/// Viewers' connections to the region's PoPs.
#[derive(Debug, Default)]
pub struct ViewerConnections {
    by_viewer: HashMap<(u64, u32), ViewerConnection, BuildHasherDefault<KeyHasher>>,
}

impl ViewerConnections {
    /// The connection a request of `viewer_id` at PoP `pop` (local index)
    /// arriving at `now_us` rides, and records it as used until `end_us`
    /// (when its answer has been sent). `page_draw` in [0, 1): whether it
    /// follows an earlier request of its page (below the reuse share).
    pub fn request(
        &mut self,
        config: &Connections,
        (viewer_id, pop): (u64, usize),
        now_us: u64,
        page_draw: f64,
    ) -> ViewerLeg {
        let key = (viewer_id, pop as u32);
        let last = self.by_viewer.get(&key).copied();
        let leg = match last {
            _ if page_draw < config.page_reuse_share => ViewerLeg::Reused,
            Some(c) if c.open_until_us >= now_us => ViewerLeg::Reused,
            Some(c) => ViewerLeg::New {
                resumed: c.resumable_until_us >= now_us,
            },
            None => ViewerLeg::New { resumed: false },
        };
        let resumable_until_us = match (leg, last) {
            (ViewerLeg::Reused, Some(c)) => c.resumable_until_us,
            _ => now_us + config.session_ticket_us,
        };
        self.by_viewer.insert(
            key,
            ViewerConnection {
                open_until_us: now_us + config.viewer_idle_timeout_us,
                resumable_until_us,
            },
        );
        leg
    }

    /// A PoP's outage breaks every connection on it, sessions included
    /// (its servers' ticket keys are gone with them).
    pub fn break_pop(&mut self, pop: usize) {
        self.by_viewer.retain(|&(_, p), _| p as usize != pop);
    }

    /// Forgets connections that can neither be reused nor resumed at
    /// `now_us` (memory stays bounded by recent viewers).
    pub fn forget_before(&mut self, now_us: u64) {
        self.by_viewer
            .retain(|_, c| c.resumable_until_us >= now_us || c.open_until_us >= now_us);
    }

    /// Number of viewer connections remembered.
    pub fn len(&self) -> usize {
        self.by_viewer.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.by_viewer.is_empty()
    }
}

/// CloudFront's persistent connections from one tier to one origin: the
/// times idle connections became free. A fetch takes the connection
/// freed most recently that is still within the origin's keep-alive
/// timeout, or opens one.
#[derive(Debug, Default, Clone)]
pub struct OriginPool {
    idle_since_us: Vec<u64>,
}

impl OriginPool {
    /// Takes a connection for a fetch sent at `at_us`: true when an idle
    /// one was reused, false when a new one must be opened. Connections
    /// idle for longer than `keepalive_us` are closed first.
    pub fn acquire(&mut self, at_us: u64, keepalive_us: u64) -> bool {
        self.idle_since_us
            .retain(|&free| free > at_us || at_us - free <= keepalive_us);
        let best = self
            .idle_since_us
            .iter()
            .enumerate()
            .filter(|&(_, &free)| free <= at_us)
            .max_by_key(|&(_, &free)| free)
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                self.idle_since_us.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Gives back a connection that becomes idle at `free_us`.
    pub fn release(&mut self, free_us: u64) {
        self.idle_since_us.push(free_us);
    }

    /// Connections open (idle or busy until a known time).
    pub fn len(&self) -> usize {
        self.idle_since_us.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.idle_since_us.is_empty()
    }
}

/// Round trips a new connection to an origin costs before the request:
/// TCP, plus a full TLS 1.2 handshake for HTTPS (CloudFront's origin
/// protocols end at TLS 1.2).
pub fn origin_handshake_rtts(tls: bool) -> (u32, u32) {
    (1, if tls { 2 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Connections {
        Connections {
            page_reuse_share: 0.0,
            viewer_idle_timeout_us: 10,
            session_ticket_us: 100,
            ..Connections::default()
        }
    }

    #[test]
    fn a_viewer_connection_is_reused_while_open_then_resumed_then_new() {
        let c = config();
        let mut v = ViewerConnections::default();
        assert_eq!(
            v.request(&c, (7, 0), 0, 0.5),
            ViewerLeg::New { resumed: false }
        );
        assert_eq!(v.request(&c, (7, 0), 10, 0.5), ViewerLeg::Reused);
        // Idle for more than 10 µs: closed, but the session resumes.
        assert_eq!(
            v.request(&c, (7, 0), 21, 0.5),
            ViewerLeg::New { resumed: true }
        );
        // Another PoP has no connection of this viewer.
        assert_eq!(
            v.request(&c, (7, 1), 22, 0.5),
            ViewerLeg::New { resumed: false }
        );
        // Past the ticket's lifetime: a full handshake.
        assert_eq!(
            v.request(&c, (7, 0), 200, 0.5),
            ViewerLeg::New { resumed: false }
        );
        v.break_pop(0);
        assert_eq!(
            v.request(&c, (7, 0), 201, 0.5),
            ViewerLeg::New { resumed: false }
        );
        v.forget_before(10_000);
        assert!(v.is_empty());
    }

    #[test]
    fn requests_of_a_page_ride_its_connection() {
        let c = Connections {
            page_reuse_share: 0.75,
            ..config()
        };
        let mut v = ViewerConnections::default();
        assert_eq!(v.request(&c, (1, 0), 0, 0.2), ViewerLeg::Reused);
        assert_eq!(
            v.request(&c, (1, 0), 50, 0.9),
            ViewerLeg::New { resumed: true }
        );
    }

    #[test]
    fn handshakes_cost_what_the_protocols_say() {
        assert_eq!(ViewerProtocol::Tls12.handshake_rtts(false), (1, 2));
        assert_eq!(ViewerProtocol::Tls12.handshake_rtts(true), (1, 1));
        assert_eq!(ViewerProtocol::Tls13.handshake_rtts(false), (1, 1));
        assert_eq!(ViewerProtocol::Http3.handshake_rtts(false), (1, 0));
        assert_eq!(ViewerProtocol::Http3.handshake_rtts(true), (0, 0));
        assert_eq!(origin_handshake_rtts(true), (1, 2));
        assert_eq!(origin_handshake_rtts(false), (1, 0));
    }

    #[test]
    fn protocols_follow_the_mix() {
        let shares = [0.3, 0.6, 0.1];
        let n = 100_000;
        let mut counts = [0u32; 3];
        for id in 0..n {
            counts[ViewerProtocol::of_viewer(id, &shares) as usize] += 1;
        }
        for (i, &c) in counts.iter().enumerate() {
            let share = f64::from(c) / n as f64;
            assert!((share - shares[i]).abs() < 0.01, "{i}: {share}");
        }
    }

    #[test]
    fn an_origin_pool_reuses_the_freshest_idle_connection_within_keepalive() {
        let mut p = OriginPool::default();
        assert!(!p.acquire(0, 5));
        p.release(10);
        // Busy until 10: a fetch at 5 opens another.
        assert!(!p.acquire(5, 5));
        p.release(12);
        assert!(p.acquire(14, 5));
        assert_eq!(p.len(), 1);
        // The one freed at 10 has been idle 10 > 5 µs at 20: closed.
        assert!(!p.acquire(20, 5));
        assert!(p.is_empty());
    }
}
