//! The HTTP client the benchmarks that drive a server process share: ingest with the write
//! key, the admin API with the admin key, and waits with a deadline (so a stuck server fails a
//! CI smoke run instead of hanging it).

use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any wait of a benchmark may take before it fails.
pub const WAIT_LIMIT: Duration = Duration::from_secs(900);

pub struct Client {
    pub http: reqwest::Client,
    pub url: String,
    pub write_key: &'static str,
    pub admin_key: &'static str,
}

impl Client {
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.admin(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn ingest(&self, body: &Value) -> anyhow::Result<()> {
        let r = self
            .http
            .post(format!("{}/v1/batch", self.url))
            .basic_auth(self.write_key, Some(""))
            .json(body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "ingest: {}", r.status());
        Ok(())
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(self.admin_key);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await?;
        anyhow::ensure!(r.status().is_success(), "{path}: {}", r.text().await?);
        Ok(r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.admin(reqwest::Method::GET, path, None).await
    }

    /// Wait until the audience's members are complete (its backfill finished); returns its
    /// size.
    pub async fn wait_ready(&self, audience: &str) -> anyhow::Result<u64> {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            let view = self.get(&format!("/api/v1/audiences/{audience}")).await?;
            if view["ready"] == true {
                return view["size"]
                    .as_u64()
                    .ok_or_else(|| anyhow::anyhow!("no size: {view}"));
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "audience {audience} not ready after {WAIT_LIMIT:?}: {view}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Wait until every stored event is processed.
    pub async fn wait_processed(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            let status = self.get("/api/v1/status").await?;
            if status["lag"] == 0 {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "processing not caught up after {WAIT_LIMIT:?}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
