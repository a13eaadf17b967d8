//! A workspace's notification templates.

use super::Store;
use crate::error::Result;
use crate::id::Id;
use crate::notify::DeliveryChannel;
use crate::notify::templates::Template;

type Row = (i64, String, String, String, String, String, i64);

/// A stored template, with its id and when it was last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate {
    pub id: Id,
    pub template: Template,
    pub updated_at: i64,
}

fn stored(r: Row) -> Option<StoredTemplate> {
    Some(StoredTemplate {
        id: Id(r.0),
        template: Template {
            name: r.1,
            channel: DeliveryChannel::parse(&r.2)?,
            subject: r.3,
            body: r.4,
            body_html: r.5,
        },
        updated_at: r.6,
    })
}

const COLUMNS: &str = "id, name, channel, subject, body, body_html, updated_at";

impl Store {
    pub async fn templates(&self, ws: Id) -> Result<Vec<StoredTemplate>> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notification_templates WHERE workspace_id = $1 ORDER BY name, channel"
        ))
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter_map(stored).collect())
    }

    pub async fn template(
        &self,
        ws: Id,
        name: &str,
        channel: DeliveryChannel,
    ) -> Result<Option<StoredTemplate>> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notification_templates WHERE workspace_id = $1 AND name = $2 AND channel = $3"
        ))
        .bind(ws.0)
        .bind(name)
        .bind(channel.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(stored))
    }

    /// Whether `ws` has a template called `name` on any channel.
    pub async fn template_exists(&self, ws: Id, name: &str) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notification_templates WHERE workspace_id = $1 AND name = $2",
        )
        .bind(ws.0)
        .bind(name)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Stores a template, replacing the one with its name and channel.
    pub async fn save_template(&self, ws: Id, t: &Template) -> Result<StoredTemplate> {
        self.insert_template(ws, t, true).await?;
        Ok(self.template(ws, &t.name, t.channel).await?.expect("the template just stored"))
    }

    /// Stores each of `list` that `ws` does not have yet; how many were new.
    pub async fn add_missing_templates(&self, ws: Id, list: &[Template]) -> Result<u64> {
        let mut added = 0;
        for t in list {
            added += self.insert_template(ws, t, false).await?;
        }
        Ok(added)
    }

    /// Inserts a template; one with its name and channel is replaced or kept.
    async fn insert_template(&self, ws: Id, t: &Template, replace: bool) -> Result<u64> {
        let conflict = if replace {
            "DO UPDATE SET subject = $5, body = $6, body_html = $7, updated_at = $8"
        } else {
            "DO NOTHING"
        };
        let done = sqlx::query(&format!(
            "INSERT INTO notification_templates (id, workspace_id, name, channel, subject, body, body_html, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (workspace_id, name, channel) {conflict}"
        ))
        .bind(Id::new().0)
        .bind(ws.0)
        .bind(&t.name)
        .bind(t.channel.as_str())
        .bind(&t.subject)
        .bind(&t.body)
        .bind(&t.body_html)
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Removes one of `ws`'s templates; whether there was one.
    pub async fn delete_template(&self, ws: Id, id: Id) -> Result<bool> {
        let done = sqlx::query("DELETE FROM notification_templates WHERE workspace_id = $1 AND id = $2")
            .bind(ws.0)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every workspace's id (for `create-default-templates`).
    pub async fn workspace_ids(&self) -> Result<Vec<Id>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM workspaces ORDER BY id").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(i,)| Id(i)).collect())
    }
}
