//! An origin's limited `concurrency` as a first-come-first-served queue in
//! virtual time: `c` servers, each fetch taken by the first server to be
//! free and waiting until then, served for a time drawn from the origin's
//! own `service_ms`. A region simulates its share of an origin's servers
//! (the coordinator splits them by the regions' fetches, see
//! [`crate::controls::OriginControl::servers_by_region`]); the queue's state, when each server
//! is next free, carries from epoch to epoch inside the region.
//!
//! Work is committed when a fetch is admitted: its server is busy until the
//! fetch's service ends, whatever happens to the queue later. A fetch that
//! would wait longer than its patience (CloudFront's origin response
//! timeout) gives up without taking a server: nobody is left to serve.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What happened to a fetch offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A server took it after `wait_us`.
    Served {
        /// Time spent waiting for a server, µs.
        wait_us: u64,
    },
    /// No server was free within its patience; it left after waiting that
    /// long and took no server.
    GaveUp,
}

/// A c-server FCFS queue (see the module docs).
#[derive(Debug, Clone)]
pub struct OriginQueue {
    /// When each server is next free, µs; the soonest on top.
    free_at_us: BinaryHeap<Reverse<u64>>,
}

impl OriginQueue {
    /// A queue of `servers` idle servers (at least one).
    pub fn new(servers: u32) -> OriginQueue {
        let mut q = OriginQueue {
            free_at_us: BinaryHeap::new(),
        };
        q.set_servers(servers);
        q
    }

    /// Number of servers.
    pub fn servers(&self) -> u32 {
        u32::try_from(self.free_at_us.len()).unwrap_or(u32::MAX)
    }

    /// Grows or shrinks the queue to `servers` (at least one). A shrinking
    /// queue drops the servers free soonest, so that the work the others
    /// have committed still delays the fetches to come. A server a region
    /// gains comes from another region's queue, whose committed work it is
    /// still doing: it joins when this queue's soonest server is free (at
    /// once when idle). Regions get servers by their share of the load, so
    /// the giver's soonest server is busy about as long as the taker's; a
    /// server freed at once would serve two queues at the same time.
    pub fn set_servers(&mut self, servers: u32) {
        let servers = servers.max(1) as usize;
        while self.free_at_us.len() > servers {
            self.free_at_us.pop();
        }
        // Free since time 0 is free now: a fetch starts at max(free, arrival).
        let joins_at_us = self.free_at_us.peek().map_or(0, |r| r.0);
        while self.free_at_us.len() < servers {
            self.free_at_us.push(Reverse(joins_at_us));
        }
    }

    /// Offers a fetch arriving at `arrival_us` that needs `service_us` of a
    /// server and waits at most `patience_us` for one.
    pub fn admit(&mut self, arrival_us: u64, service_us: u64, patience_us: u64) -> Admission {
        let Some(mut soonest) = self.free_at_us.peek_mut() else {
            // Unreachable: set_servers keeps at least one server.
            return Admission::Served { wait_us: 0 };
        };
        let start_us = soonest.0.max(arrival_us);
        let wait_us = start_us - arrival_us;
        if wait_us > patience_us {
            // The server stays as it was: giving up costs it nothing.
            return Admission::GaveUp;
        }
        *soonest = Reverse(start_us.saturating_add(service_us));
        Admission::Served { wait_us }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(a: Admission) -> u64 {
        match a {
            Admission::Served { wait_us } => wait_us,
            Admission::GaveUp => panic!("gave up"),
        }
    }

    #[test]
    fn fetches_wait_for_the_first_free_server_in_arrival_order() {
        let mut q = OriginQueue::new(2);
        assert_eq!(wait(q.admit(0, 100, u64::MAX)), 0);
        assert_eq!(wait(q.admit(10, 50, u64::MAX)), 0);
        // Both busy (until 100 and 60): the next takes the one free at 60.
        assert_eq!(wait(q.admit(20, 100, u64::MAX)), 40);
        // Then the one free at 100, then the one free at 160.
        assert_eq!(wait(q.admit(30, 10, u64::MAX)), 70);
        assert_eq!(wait(q.admit(40, 10, u64::MAX)), 70);
        // Idle again later: no wait.
        assert_eq!(wait(q.admit(1_000, 10, u64::MAX)), 0);
    }

    #[test]
    fn a_backlog_builds_above_capacity_and_drains_below_it() {
        // One server, 10 µs per fetch, a fetch every 5 µs: the wait grows
        // by 5 µs per fetch; then a fetch every 20 µs drains it.
        let mut q = OriginQueue::new(1);
        let mut t = 0;
        let mut waits = Vec::new();
        for _ in 0..100 {
            waits.push(wait(q.admit(t, 10, u64::MAX)));
            t += 5;
        }
        assert_eq!(waits[99], 99 * 5);
        let mut drained_after = None;
        for i in 0..100 {
            if wait(q.admit(t, 10, u64::MAX)) == 0 {
                drained_after = Some(i);
                break;
            }
            t += 20;
        }
        // 495 µs of backlog shrinks by 10 µs per fetch.
        assert_eq!(drained_after, Some(50));
    }

    #[test]
    fn a_fetch_past_its_patience_gives_up_without_taking_a_server() {
        let mut q = OriginQueue::new(1);
        assert_eq!(wait(q.admit(0, 1_000, 100)), 0);
        assert_eq!(q.admit(10, 1_000, 100), Admission::GaveUp);
        // The one that gave up left the server free at 1,000 as before.
        assert_eq!(wait(q.admit(950, 10, 100)), 50);
    }

    #[test]
    fn shrinking_keeps_the_committed_work_and_new_servers_join_when_one_is_free() {
        let mut q = OriginQueue::new(3);
        for _ in 0..3 {
            q.admit(0, 100, u64::MAX);
        }
        // Waits for a server free at 100: free at 100, 100, 600.
        q.admit(0, 500, u64::MAX);
        q.set_servers(2);
        assert_eq!(q.servers(), 2);
        // A server free at 100 went; the one busy until 600 stays.
        assert_eq!(wait(q.admit(0, 1, u64::MAX)), 100);
        // Free at 101 and 600: two more join at 101, not at once.
        q.set_servers(4);
        assert_eq!(q.servers(), 4);
        for _ in 0..3 {
            assert_eq!(wait(q.admit(0, 1, u64::MAX)), 101);
        }
        // An idle queue's new servers are free at once.
        let mut idle = OriginQueue::new(1);
        idle.set_servers(3);
        for _ in 0..3 {
            assert_eq!(wait(idle.admit(5, 10, u64::MAX)), 0);
        }
        q.set_servers(0);
        assert_eq!(q.servers(), 1, "at least one server");
    }
}
