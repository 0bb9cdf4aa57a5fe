//! Faults the driver asks for, applied to the simulated world between steps, and their healing.

use std::collections::BTreeSet;

use turmoil::Sim;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No message either way between two hosts.
    Partition(&'static str, &'static str),
    /// No message from the first host to the second.
    PartitionOneway(&'static str, &'static str),
    /// Messages between two hosts are held, then delivered at once on release (delay and reordering).
    Hold(&'static str, &'static str),
    /// The host's process dies; its disk stays.
    Crash(&'static str),
}

/// The faults in force, so the end of a run can heal them all.
#[derive(Debug, Default)]
pub struct Faults {
    partitions: BTreeSet<(&'static str, &'static str)>,
    oneway: BTreeSet<(&'static str, &'static str)>,
    holds: BTreeSet<(&'static str, &'static str)>,
    crashed: BTreeSet<&'static str>,
}

impl Faults {
    pub fn inject(&mut self, sim: &mut Sim<'_>, fault: &Fault) {
        match *fault {
            Fault::Partition(a, b) => {
                sim.partition(a, b);
                self.partitions.insert((a, b));
            }
            Fault::PartitionOneway(from, to) => {
                sim.partition_oneway(from, to);
                self.oneway.insert((from, to));
            }
            Fault::Hold(a, b) => {
                sim.hold(a, b);
                self.holds.insert((a, b));
            }
            Fault::Crash(host) => {
                if self.crashed.insert(host) {
                    sim.crash(host);
                }
            }
        }
    }

    pub fn heal(&mut self, sim: &mut Sim<'_>, fault: &Fault) {
        match *fault {
            Fault::Partition(a, b) => {
                if self.partitions.remove(&(a, b)) {
                    sim.repair(a, b);
                }
            }
            Fault::PartitionOneway(from, to) => {
                if self.oneway.remove(&(from, to)) {
                    sim.repair_oneway(from, to);
                }
            }
            Fault::Hold(a, b) => {
                if self.holds.remove(&(a, b)) {
                    sim.release(a, b);
                }
            }
            Fault::Crash(host) => {
                if self.crashed.remove(host) {
                    sim.bounce(host);
                }
            }
        }
    }

    pub fn heal_all(&mut self, sim: &mut Sim<'_>) {
        let all: Vec<Fault> = self
            .partitions
            .iter()
            .map(|(a, b)| Fault::Partition(a, b))
            .chain(self.oneway.iter().map(|(a, b)| Fault::PartitionOneway(a, b)))
            .chain(self.holds.iter().map(|(a, b)| Fault::Hold(a, b)))
            .chain(self.crashed.iter().map(|h| Fault::Crash(h)))
            .collect();
        for fault in all {
            self.heal(sim, &fault);
        }
    }
}
