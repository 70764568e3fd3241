//! The processor's part in poison events (see [`crate::quarantine`]): setting an event aside
//! and moving past it, and the admin commands that retry or discard it.

use herald_core::projection::Applied;
use herald_storage::{Partitioned, Quarantined, StateTxn, StorageError, Unreadable};

use super::{apply_one, check_cursor, finish_batch, now_ms, CommandError, Processor};
use crate::quarantine::guarded;

impl Processor {
    /// The position to quarantine after a batch failed with `error`, if the failure was the
    /// event's own and the batch was that one event (else the next batches isolate it).
    pub(super) fn poison_at(&mut self, error: &StorageError) -> Option<u64> {
        let (first, last) = self.attempted.take()?;
        self.isolation.failed(first, last, error)
    }

    /// Set the event at `seq` (the one after `cursor`) aside and move past it.
    pub(super) fn quarantine_single(
        &mut self,
        cursor: u64,
        seq: u64,
        error: &StorageError,
    ) -> Result<(), StorageError> {
        let entry = poison_entry(seq, error);
        self.store.in_transaction(&mut |txn: &mut dyn StateTxn| {
            check_cursor(txn, cursor)?;
            txn.quarantine(&entry)?;
            txn.set_cursor(seq)
        })?;
        report_quarantined(&[Unreadable {
            seq,
            reason: entry.reason,
        }]);
        Ok(())
    }

    /// [`Processor::quarantine_single`] for the sequencer of a cluster.
    pub(super) fn quarantine_sequenced(
        &mut self,
        parts: &dyn Partitioned,
        cursor: u64,
        seq: u64,
        error: &StorageError,
    ) -> Result<(), StorageError> {
        let entry = poison_entry(seq, error);
        parts.in_sequencer_transaction(&mut |txn, _routed| {
            check_cursor(txn, cursor)?;
            txn.quarantine(&entry)?;
            finish_batch(txn, &[], 0, seq)
        })?;
        report_quarantined(&[Unreadable {
            seq,
            reason: entry.reason,
        }]);
        Ok(())
    }

    /// Apply a quarantined event, in one transaction with taking it out of quarantine.
    pub(super) fn retry(&mut self, seq: u64) -> Result<(), CommandError> {
        if !self.is_quarantined(seq)? {
            return Err(CommandError::NotFound);
        }
        let event = match self.store.load(&[seq]) {
            Ok(mut found) => found.pop().map(|(_, e)| e).ok_or(CommandError::NotFound)?,
            Err(StorageError::Corrupt(reason)) => return Err(CommandError::StillFailing(reason)),
            Err(e) => return Err(e.into()),
        };
        let now = now_ms();
        self.audiences.sync(&*self.store, now)?;
        let rules = &self.config.rules;
        let catalog = self.audiences.catalog();
        let stages = &mut self.stages;
        let loader = self.store.clone();
        let mut suppressed = false;
        let result = self.store.in_transaction(&mut |txn: &mut dyn StateTxn| {
            if txn.routed_pending()? {
                return Err(StorageError::Conflict(
                    "routed work is not applied yet".into(),
                ));
            }
            if !txn.release_quarantined(seq)? {
                return Err(StorageError::Conflict("released meanwhile".into()));
            }
            let applied = guarded(seq, || {
                apply_one(txn, &catalog, stages, seq, &event, rules, now, &*loader)
            })?;
            suppressed = matches!(applied, Applied::Suppressed);
            if suppressed {
                txn.forget_events(&[seq])?;
                txn.add_counter("suppressed_events", 1)?;
            }
            Ok(())
        });
        match result {
            Ok(()) if suppressed => self.finish_log_deletions().map_err(CommandError::from),
            Ok(()) => Ok(()),
            Err(StorageError::Corrupt(reason)) => Err(CommandError::StillFailing(reason)),
            Err(e) => Err(e.into()),
        }
    }

    /// Remove a quarantined event from the quarantine and the log.
    pub(super) fn discard(&mut self, seq: u64) -> Result<(), CommandError> {
        let mut found = false;
        self.store.in_transaction(&mut |txn: &mut dyn StateTxn| {
            found = txn.release_quarantined(seq)?;
            if found {
                txn.forget_events(&[seq])?;
                txn.add_counter("discarded_events", 1)?;
            }
            Ok(())
        })?;
        if !found {
            return Err(CommandError::NotFound);
        }
        self.finish_log_deletions()?;
        Ok(())
    }

    fn is_quarantined(&self, seq: u64) -> Result<bool, StorageError> {
        Ok(self
            .store
            .quarantined(seq.saturating_sub(1), 1)?
            .first()
            .is_some_and(|q| q.seq == seq))
    }
}

/// Set aside, in the batch's transaction, the events of the batch that did not read back.
pub(super) fn quarantine_unreadable(
    txn: &mut dyn StateTxn,
    unreadable: &[Unreadable],
) -> Result<(), StorageError> {
    let at_ms = now_ms();
    for u in unreadable {
        txn.quarantine(&Quarantined {
            seq: u.seq,
            reason: u.reason.clone(),
            at_ms,
        })?;
    }
    Ok(())
}

fn poison_entry(seq: u64, error: &StorageError) -> Quarantined {
    Quarantined {
        seq,
        reason: error.to_string(),
        at_ms: now_ms(),
    }
}

/// Log and count events just quarantined (after their transaction committed).
pub(super) fn report_quarantined(quarantined: &[Unreadable]) {
    for q in quarantined {
        tracing::error!(seq = q.seq, reason = %q.reason, "event quarantined; processing goes on");
    }
    metrics::counter!("herald_events_quarantined_total").increment(quarantined.len() as u64);
}
