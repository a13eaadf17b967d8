//! Analytics: figures of a workspace (for who manages it) or of the whole
//! deployment (for its administrators), by day, read from the daily
//! roll-up that a worker keeps ([`Hub::roll_up_activity`]), never from the
//! messages themselves.

use super::Hub;
use crate::error::{Error, Result};
use crate::export::{DAY_MS, day_of};
use crate::id::Id;
use crate::model::{Figure, FigureSeries, RankedItem};
use crate::permissions;

/// Messages are rolled up this long after they are written, so that none
/// still being committed (its id made a moment earlier) is passed over.
pub const ROLL_UP_LAG_MS: i64 = 10_000;
/// Messages added to the roll-up in one transaction.
const ROLL_UP_BATCH: i64 = 5_000;
/// The longest period a figure covers.
pub const MAX_FIGURE_DAYS: i64 = 366;
/// The figures there are, by name.
pub const FIGURES: [&str; 3] = ["messages", "active_people", "channels"];

/// Whose figures: one workspace's, or the whole deployment's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyticsScope {
    Workspace(Id),
    Deployment,
}

impl Hub {
    /// Adds the messages written up to ten seconds before `now` to the daily
    /// counts; returns how many. Safe on any number of nodes.
    pub async fn roll_up_activity(&self, now: i64) -> Result<i64> {
        let before = Id::first_at(now - ROLL_UP_LAG_MS);
        let mut total = 0;
        loop {
            let added = self.store.roll_up_activity(before, ROLL_UP_BATCH).await?;
            total += added;
            if added < ROLL_UP_BATCH {
                return Ok(total);
            }
        }
    }

    /// Every figure of `scope` over the `days` days up to `now`'s.
    pub async fn analytics(
        &self,
        actor: Id,
        scope: AnalyticsScope,
        days: i64,
        now: i64,
    ) -> Result<Vec<Figure>> {
        let mut out = Vec::with_capacity(FIGURES.len());
        for name in FIGURES {
            out.push(self.figure(actor, scope, name, days, now).await?);
        }
        Ok(out)
    }

    /// One figure (`messages`, `active_people` or `channels`) of `scope`
    /// over the `days` days (1 to [`MAX_FIGURE_DAYS`]) up to `now`'s.
    pub async fn figure(
        &self,
        actor: Id,
        scope: AnalyticsScope,
        name: &str,
        days: i64,
        now: i64,
    ) -> Result<Figure> {
        let ws = match scope {
            AnalyticsScope::Workspace(ws) => {
                let (_, facts) = self.workspace_facts(ws, actor).await?;
                permissions::view_analytics(facts)?;
                Some(ws)
            }
            AnalyticsScope::Deployment => {
                self.deployment_admin(actor).await?;
                None
            }
        };
        if !(1..=MAX_FIGURE_DAYS).contains(&days) {
            return Err(Error::invalid("days", format!("Choose a period of 1 to {MAX_FIGURE_DAYS} days.")));
        }
        let to = now.div_euclid(DAY_MS) * DAY_MS;
        let from = to - (days - 1) * DAY_MS;
        let dates: Vec<i64> = (0..days).map(|i| from + i * DAY_MS).collect();
        // Days without any are zeros.
        let on_days = |found: &[(i64, i64)]| -> Vec<i64> {
            dates.iter().map(|d| found.iter().find(|(day, _)| day == d).map_or(0, |(_, n)| *n)).collect()
        };
        let mut figure = Figure {
            name: name.to_string(),
            title: String::new(),
            from: day_of(from),
            to: day_of(to),
            days: Vec::new(),
            series: Vec::new(),
            ranking: Vec::new(),
        };
        match name {
            "messages" => {
                let rows = self.store.daily_messages(ws, from, to).await?;
                let messages: Vec<(i64, i64)> = rows.iter().map(|(d, m, _)| (*d, *m)).collect();
                let replies: Vec<(i64, i64)> = rows.iter().map(|(d, _, r)| (*d, *r)).collect();
                figure.title = "Messages per day".to_string();
                figure.series = vec![
                    FigureSeries { name: "messages".to_string(), values: on_days(&messages) },
                    FigureSeries { name: "thread replies".to_string(), values: on_days(&replies) },
                ];
            }
            "active_people" => {
                let rows = self.store.daily_active_people(ws, from, to).await?;
                figure.title = "People who posted, per day".to_string();
                figure.series = vec![FigureSeries { name: "people".to_string(), values: on_days(&rows) }];
            }
            "channels" => {
                figure.title = "Busiest channels".to_string();
                figure.ranking = self.busiest(actor, ws, from, to).await?;
            }
            _ => {
                return Err(Error::invalid(
                    "figure",
                    format!("There is no figure “{name}”: choose {}.", FIGURES.join(", ")),
                ));
            }
        }
        if figure.ranking.is_empty() && !figure.series.is_empty() {
            figure.days = dates.iter().map(|d| day_of(*d)).collect();
        }
        Ok(figure)
    }

    /// The ten channels with the most messages; in a workspace, only those
    /// `actor` can see (a private channel's name stays private).
    async fn busiest(&self, actor: Id, ws: Option<Id>, from: i64, to: i64) -> Result<Vec<RankedItem>> {
        let found = self.store.busiest_channels(ws, from, to, 50).await?;
        let visible: Option<std::collections::HashSet<i64>> = match ws {
            Some(ws) => {
                let (_, listed) = self.visible_listings(ws, actor).await?;
                Some(listed.iter().map(|(l, _)| l.channel.id.0).collect())
            }
            None => None,
        };
        Ok(found
            .into_iter()
            .filter(|c| visible.as_ref().is_none_or(|v| v.contains(&c.channel_id)))
            .take(10)
            .map(|c| RankedItem {
                label: match ws {
                    Some(_) => format!("#{}", c.name),
                    None => format!("#{} ({})", c.name, c.workspace_name),
                },
                value: c.messages,
            })
            .collect())
    }
}
