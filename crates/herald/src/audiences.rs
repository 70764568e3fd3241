//! `herald audiences`: audience commands against a running server's API.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use serde_json::Value;

#[derive(Subcommand)]
pub enum AudiencesAction {
    /// Follow the backfill after audiences or computed traits changed, with a progress bar,
    /// until it is done; then list every audience with its size.
    Watch {
        #[arg(long, env = "HERALD_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, env = "HERALD_ADMIN_KEY")]
        admin_key: String,
    },
}

pub async fn run(action: AudiencesAction) -> anyhow::Result<()> {
    let AudiencesAction::Watch { url, admin_key } = action;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", url.trim_end_matches('/')))
            .bearer_auth(&admin_key)
            .send()
    };
    loop {
        let response = get("/api/v1/audiences").await?;
        anyhow::ensure!(response.status().is_success(), "{}", response.text().await?);
        let audiences: Vec<Value> = response.json().await?;
        let backfill = audiences
            .iter()
            .find_map(|a| a["backfill"].as_object().cloned());
        let ready = audiences.iter().all(|a| a["ready"] == true);
        if let Some(b) = &backfill {
            let done = b["done"].as_u64().unwrap_or(0);
            let total = b["total"].as_u64().unwrap_or(0).max(done).max(1);
            let width = 40;
            let filled = (done * width / total) as usize;
            print!(
                "\rbackfill v{}: [{}{}] {done}/{total} profiles",
                b["version"],
                "#".repeat(filled),
                "-".repeat(width as usize - filled)
            );
            std::io::stdout().flush()?;
        }
        if ready {
            println!();
            for a in &audiences {
                println!(
                    "{:<32} {:>10} members  {}",
                    a["id"].as_str().unwrap_or(""),
                    a["size"],
                    a["rule_text"].as_str().unwrap_or("")
                );
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
