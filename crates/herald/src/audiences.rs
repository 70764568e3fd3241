//! `herald audiences`: audience commands against a running server's API.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use serde_json::Value;

#[derive(Subcommand)]
pub enum AudiencesAction {
    /// Follow the backfill after audiences or computed traits changed, with a progress bar,
    /// until it is done; then list every audience with its size.
    Watch,
}

/// The server's base URL: `http://` when `url` names no scheme (`localhost:8080`), and no
/// trailing slash.
pub fn base_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

pub async fn run(url: &str, admin_key: &str, action: AudiencesAction) -> anyhow::Result<()> {
    let AudiencesAction::Watch = action;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{url}{path}"))
            .bearer_auth(admin_key)
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

#[cfg(test)]
mod tests {
    use super::base_url;

    #[test]
    fn a_url_without_a_scheme_is_http() {
        assert_eq!(base_url("localhost:8080"), "http://localhost:8080");
        assert_eq!(base_url("127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_eq!(
            base_url("https://herald.example.com/"),
            "https://herald.example.com"
        );
        assert_eq!(base_url("http://localhost:8080"), "http://localhost:8080");
    }
}
