//! What the simulated users were told: the acknowledged outcomes the services must keep.

use std::collections::BTreeMap;

/// An owner's acknowledged suspension intent for its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Own {
    pub suspended: bool,
}

#[derive(Debug, Clone, Default)]
pub struct EndModel {
    /// Some(true): created and not deleted (both acknowledged); Some(false): deletion acknowledged;
    /// None: an unanswered delete may or may not have happened.
    pub exists: Option<bool>,
    /// The owner's last acknowledged suspend or activate on the current connection; None when unknown.
    pub own: Option<Own>,
}

/// One cross-account connection the driver set up: an initiator end in account A and an acceptor end in
/// account `acceptor_host`.
#[derive(Debug, Clone)]
pub struct Conn {
    pub initiator: String,
    pub acceptor: String,
    pub acceptor_host: &'static str,
}

#[derive(Debug, Default)]
pub struct Model {
    pub ends: BTreeMap<String, EndModel>,
    pub conns: Vec<Conn>,
}

impl Model {
    pub fn created(&mut self, id: &str) {
        self.ends.insert(id.to_owned(), EndModel { exists: Some(true), own: None });
    }

    pub fn end(&mut self, id: &str) -> &mut EndModel {
        self.ends.entry(id.to_owned()).or_default()
    }
}
