//! What one side of a peer link has told the other this session: the version of each end last sent, so
//! that neither side sends an end's state twice, nor one older than what it already sent.

use std::collections::HashMap;

use crate::domain::model::EndReport;

/// The version of each end last sent over a peer link. An end's entry goes once its deletion is sent:
/// nothing more is ever said about a deleted end (ids are never reused), and without this a session that
/// lasts would keep an entry for every end deleted while it lasted.
#[derive(Debug, Default)]
pub struct SentVersions(HashMap<String, u64>);

impl SentVersions {
    /// Whether `version` of end `id` is newer than anything sent of it (an end never sent, or whose
    /// deletion was sent, counts as new).
    pub fn is_new(&self, id: &str, version: u64) -> bool {
        self.0.get(id).is_none_or(|sent| version > *sent)
    }

    /// Whether `version` of end `id` is at least as new as what was sent of it: the same state may be
    /// sent again, an older one may not.
    pub fn is_current(&self, id: &str, version: u64) -> bool {
        self.0.get(id).is_none_or(|sent| version >= *sent)
    }

    /// Records that `version` of end `id` was sent; never goes back.
    pub fn sent(&mut self, id: &str, version: u64) {
        match self.0.get_mut(id) {
            Some(sent) => *sent = (*sent).max(version),
            None => {
                self.0.insert(id.to_owned(), version);
            }
        }
    }

    /// Records that the deletion of end `id` was sent.
    pub fn deletion_sent(&mut self, id: &str) {
        self.0.remove(id);
    }

    /// Records that `report` was sent: its version, or its end's deletion.
    pub fn report_sent(&mut self, report: &EndReport) {
        if report.deleted {
            self.deletion_sent(&report.interface_id);
        } else {
            self.sent(&report.interface_id, report.version);
        }
    }

    /// Whether no end has an entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::SentVersions;

    #[test]
    fn a_version_is_new_only_until_it_or_a_newer_one_was_sent() {
        let mut sent = SentVersions::default();
        assert!(sent.is_new("ri-1", 3), "never sent");
        sent.sent("ri-1", 3);
        assert!(!sent.is_new("ri-1", 3), "sent already");
        assert!(!sent.is_new("ri-1", 2), "older than what was sent");
        assert!(sent.is_new("ri-1", 4));
        assert!(sent.is_current("ri-1", 3), "the same state may be sent again");
        assert!(!sent.is_current("ri-1", 2), "an older one may not");
        sent.sent("ri-1", 2);
        assert!(!sent.is_new("ri-1", 3), "recording an older version does not go back");
        assert!(sent.is_new("ri-2", 1), "each end on its own");
    }

    #[test]
    fn an_end_whose_deletion_was_sent_leaves_no_entry() {
        let mut sent = SentVersions::default();
        for n in 0..1000 {
            let id = format!("ri-{n}");
            sent.sent(&id, 1);
            sent.sent(&id, 2);
            sent.deletion_sent(&id);
        }
        assert!(sent.is_empty(), "entries kept for deleted ends: {sent:?}");
    }
}
