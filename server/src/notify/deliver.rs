//! One try of one group of rows (one message) on its channel: rows a silence covers now closed
//! `silenced` unsent; the others claimed first in a cluster (rows
//! another instance delivered are closed `sent_elsewhere`; rows of a source whose lease another
//! instance holds wait), composed from the store, sent, and its outcome written to the store:
//! sent (then marked done in the cluster), tried again after a back-off, moved to the fallback
//! after `fallback_after` failures, or failed with the reason kept.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::backoff;
use super::claim::Claimed;
use super::compose;
use super::message::SendError;
use super::worker::{LOOK_AGAIN, Task};
use crate::clock::{millis, now_ms};
use crate::store::StoreError;
use crate::store::outbox::{Row, write};

/// The claims' key of a row: `"<id>/<channel>"`.
pub fn claim_key(row: &Row) -> String {
    format!("{}/{}", row.key, row.channel)
}

impl Task {
    /// Claims, sends and records `group`.
    pub(super) async fn deliver(&mut self, group: Vec<Row>) -> Result<(), StoreError> {
        let now = Instant::now();
        // Never while silenced: a row whose alert a silence covers when it is due is not sent.
        let (silenced, group): (Vec<Row>, Vec<Row>) = group.into_iter().partition(|r| {
            r.kind != "digest"
                && self.alerts.as_ref().is_some_and(|a| a.silenced(&r.rule, &r.source, r.series.as_deref()))
        });
        if !silenced.is_empty() {
            let ids: Vec<i64> = silenced.iter().map(|r| r.id).collect();
            for id in &ids {
                self.due.remove(id);
            }
            let at = now_ms();
            self.db.run(move |c| write::close(c, &ids, "silenced", Some("silenced when due"), false, at)).await?;
        }
        let mut mine: Vec<(Row, Option<u64>)> = Vec::new();
        match self.notifier.0.claims.get().cloned() {
            None => mine.extend(group.into_iter().map(|r| (r, None))),
            Some(claims) => {
                let mut elsewhere = Vec::new();
                for row in group {
                    let key = claim_key(&row);
                    match claims.claim(&row.source, &key).await {
                        Claimed::Mine(token) => mine.push((row, Some(token))),
                        Claimed::Alone => mine.push((row, None)),
                        Claimed::Done => elsewhere.push(row.id),
                        Claimed::NotHolder => {
                            if claims.is_done(&key).await == Ok(true) {
                                elsewhere.push(row.id);
                            } else {
                                self.due.insert(row.id, now + LOOK_AGAIN);
                            }
                        }
                        Claimed::Failed(e) => {
                            tracing::warn!(channel = %self.channel.name, error = %e, "notify: could not claim a delivery; trying again");
                            self.due.insert(row.id, now + LOOK_AGAIN);
                        }
                    }
                }
                for id in &elsewhere {
                    self.due.remove(id);
                }
                let at = now_ms();
                self.db.run(move |c| write::close(c, &elsewhere, "sent_elsewhere", None, false, at)).await?;
            }
        }
        if mine.is_empty() {
            return Ok(());
        }
        let rows: Vec<Row> = mine.iter().map(|(r, _)| r.clone()).collect();
        let base = self.base.clone();
        let message = self.db.run(move |c| compose::message(c, &rows, &base, now_ms())).await?;
        let outcome = self.channel.send(&message).await;
        // A back-off (and a `Retry-After`) counts from the answer, not from the try's start.
        let (answered, at) = (Instant::now(), now_ms());
        let ids: Vec<i64> = mine.iter().map(|(r, _)| r.id).collect();
        match outcome {
            Ok(answer) => {
                let text = format!("{} {}", answer.code, answer.text).trim_end().to_owned();
                self.note(at, &text);
                let written = text.clone();
                self.db.run(move |c| write::sent(c, &ids, &written, at)).await?;
                self.counts().sent.fetch_add(mine.len() as u64, Ordering::Relaxed);
                self.resting = None;
                for (row, token) in &mine {
                    self.due.remove(&row.id);
                    self.done(row, *token).await;
                }
            }
            Err(SendError::Retry { reason, after }) => {
                tracing::info!(channel = %self.channel.name, reason = %reason, "notify: a send failed; it will be tried again");
                self.note(at, &reason);
                for (row, token) in mine {
                    if self.failed_try(&row, &reason, after, answered).await? {
                        self.done(&row, token).await;
                    }
                }
            }
            Err(SendError::Refused { reason }) => {
                // The receiver answered: it is up, whatever it thought of this message.
                self.resting = None;
                tracing::warn!(channel = %self.channel.name, reason = %reason, "notify: the receiver refused a message; given up on this channel");
                self.note(at, &reason);
                for (row, token) in mine {
                    self.due.remove(&row.id);
                    if self.give_up(row.id, "failed", &reason).await? {
                        self.done(&row, token).await;
                    }
                }
            }
        }
        Ok(())
    }

    /// Marks `row` done in the cluster under the claim's `token` (when it was claimed there):
    /// nothing more is to be done for its key, delivered or given up for good (the holder keeps
    /// the reason), so no other instance tries it again. A delivery moved to a fallback is not
    /// done: if this instance dies before the fallback delivered it, the next holder takes the
    /// key over and moves it again.
    async fn done(&mut self, row: &Row, token: Option<u64>) {
        if let (Some(claims), Some(token)) = (self.notifier.0.claims.get(), token)
            && let Err(e) = claims.done(&claim_key(row), token).await
        {
            tracing::warn!(channel = %self.channel.name, error = %e, "notify: could not mark a delivery done in the cluster");
        }
    }

    /// A try of `row` failed with a reason worth another: tried again after the back-off, or
    /// moved to the fallback after `fallback_after` failures, or given up after 24 h of waiting
    /// with no fallback; whether it ended for good (given up, not moved).
    async fn failed_try(
        &mut self,
        row: &Row,
        reason: &str,
        after: Option<Duration>,
        now: Instant,
    ) -> Result<bool, StoreError> {
        let failures = row.failures + 1;
        if self.channel.fallback.is_some() && failures >= self.channel.fallback_after.max(1) {
            self.due.remove(&row.id);
            let why = format!("{reason} (moved to the fallback after {failures} failures)");
            return self.give_up(row.id, "moved", &why).await;
        }
        let wait = backoff::wait(failures, after, backoff::jitter());
        if self.channel.fallback.is_none() && Duration::from_millis(row.waited_ms) + wait > backoff::GIVE_UP {
            self.due.remove(&row.id);
            let why = format!("{reason} (given up after 24 h of failures)");
            return self.give_up(row.id, "failed", &why).await;
        }
        let (id, reason, waited, at) = (row.id, reason.to_owned(), millis(wait), now_ms());
        self.db.run(move |c| write::retry(c, &[id], &reason, waited, at.saturating_add(waited))).await?;
        self.due.insert(row.id, now + wait);
        self.resting = Some(self.resting.map_or(now + wait, |r| r.max(now + wait)));
        self.counts().retried.fetch_add(1, Ordering::Relaxed);
        Ok(false)
    }

    /// Row `id` is given up on this channel (`failed` or `moved`): to the fallback when the
    /// channel has one (same key), else ended with `reason`; whether it ended (not moved).
    async fn give_up(&mut self, id: i64, state: &'static str, reason: &str) -> Result<bool, StoreError> {
        let (reason, at, fallback) = (reason.to_owned(), now_ms(), self.channel.fallback.clone());
        let moved = self
            .db
            .run(move |c| match fallback {
                Some(to) => write::move_to(c, id, &to, state, &reason, at).map(|_| true),
                None => write::close(c, &[id], state, Some(&reason), true, at).map(|()| false),
            })
            .await?;
        self.counts().failed.fetch_add(1, Ordering::Relaxed);
        if moved {
            self.notifier.0.wake.send_modify(|n| *n += 1);
        }
        Ok(!moved)
    }

    /// Keeps the channel's last answer or failure for the page.
    fn note(&self, at: u64, text: &str) {
        *self.counts().last.lock() = Some((at, text.to_owned()));
    }
}
