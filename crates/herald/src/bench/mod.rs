//! `herald bench`: reproducible benchmarks (results and method in BENCHMARKS.md).

mod audiences;
mod broadcast;
mod client;
mod governor;
mod ingest;
mod insights;
mod process;
mod render;
mod smtp_sink;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Sustained `/v1/batch` ingest with durable acknowledgment, from a loopback load generator.
    Ingest(ingest::IngestArgs),
    /// Live audiences: membership latency after an acknowledged event, processing throughput
    /// with 100 audiences, backfill speed, memory.
    Audiences(audiences::AudiencesArgs),
    /// Insights: trend, funnel and retention over a synthetic history in the index.
    Insights(insights::InsightsArgs),
    /// Email rendering: Liquid and MJML for many people, on every core; with `--smtp`, handed
    /// to SMTP too.
    Render(render::RenderArgs),
    /// The send governor's decision time.
    Governor(governor::GovernorArgs),
    /// A broadcast to 1M profiles through the send pipeline to an SMTP sink: time to finish,
    /// rate, memory, progress.
    Broadcast(broadcast::BroadcastArgs),
}

pub async fn run(which: BenchCommand) -> anyhow::Result<()> {
    match which {
        BenchCommand::Ingest(args) => ingest::run(args).await,
        BenchCommand::Audiences(args) => audiences::run(args).await,
        BenchCommand::Insights(args) => {
            tokio::task::spawn_blocking(move || insights::run(args)).await?
        }
        BenchCommand::Render(args) => render::run(args).await,
        BenchCommand::Governor(args) => {
            tokio::task::spawn_blocking(move || governor::run(args)).await?
        }
        BenchCommand::Broadcast(args) => broadcast::run(args).await,
    }
}
