//! `herald backup` and `herald restore` of the embedded store (see
//! `herald_storage::sqlite::backup` for why the copy is consistent, and docs/deploy.md).

use std::path::Path;

use anyhow::Context;
use herald_storage::sqlite::{self, LOG_SCHEMA_VERSION, STATE_SCHEMA_VERSION};
use serde::{Deserialize, Serialize};

/// The manifest's own format.
const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub herald_version: String,
    pub herald_commit: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The data directory it was taken from.
    pub source: String,
    pub log_schema_version: usize,
    pub state_schema_version: usize,
    /// The highest log position in the copy; the processor's cursor in the copy is at most this.
    pub log_head: u64,
    pub state_cursor: u64,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

pub fn backup(data_dir: &Path, target: &Path) -> anyhow::Result<()> {
    crate::existing_data_dir(data_dir)?;
    if target.exists()
        && std::fs::read_dir(target)
            .with_context(|| format!("reading {}", target.display()))?
            .next()
            .is_some()
    {
        anyhow::bail!(
            "{} is not empty: back up into a new or empty directory",
            target.display()
        );
    }
    let started = std::time::Instant::now();
    let info = sqlite::backup(data_dir, target)
        .with_context(|| format!("backing up {}", data_dir.display()))?;
    let manifest = Manifest {
        format: FORMAT,
        herald_version: env!("CARGO_PKG_VERSION").to_owned(),
        herald_commit: env!("HERALD_GIT_COMMIT").to_owned(),
        created_at: chrono::Utc::now(),
        source: std::path::absolute(data_dir)
            .unwrap_or_else(|_| data_dir.to_owned())
            .display()
            .to_string(),
        log_schema_version: info.log_schema_version,
        state_schema_version: info.state_schema_version,
        log_head: info.log_head,
        state_cursor: info.state_cursor,
        files: info
            .files
            .iter()
            .map(|(name, bytes, sha256)| ManifestFile {
                name: name.clone(),
                bytes: *bytes,
                sha256: sha256.clone(),
            })
            .collect(),
    };
    // Written last: a directory with a manifest holds a complete backup.
    let partial = target.join(format!("{MANIFEST}.partial"));
    std::fs::write(&partial, serde_json::to_vec_pretty(&manifest)?)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, target.join(MANIFEST))?;
    std::fs::File::open(target)?.sync_all()?;
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backed up {} to {}: log up to position {} (processed up to {}), {:.1} MiB in {:.1} s",
        data_dir.display(),
        target.display(),
        manifest.log_head,
        manifest.state_cursor,
        bytes as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn read_manifest(backup: &Path) -> anyhow::Result<Manifest> {
    let path = backup.join(MANIFEST);
    let text = std::fs::read(&path).with_context(|| {
        format!(
            "{} is not a complete Herald backup (no {MANIFEST})",
            backup.display()
        )
    })?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .with_context(|| format!("invalid backup manifest {}", path.display()))?;
    anyhow::ensure!(
        manifest.format == FORMAT,
        "{} has manifest format {}; this Herald ({}) reads format {FORMAT}",
        path.display(),
        manifest.format,
        env!("CARGO_PKG_VERSION")
    );
    for (file, found, known) in [
        ("log.db", manifest.log_schema_version, LOG_SCHEMA_VERSION),
        (
            "state.db",
            manifest.state_schema_version,
            STATE_SCHEMA_VERSION,
        ),
    ] {
        anyhow::ensure!(
            found <= known,
            "the backup's {file} has schema version {found}, newer than the version {known} this Herald ({}) knows: it was taken by Herald {}; restore it with that version or a later one",
            env!("CARGO_PKG_VERSION"),
            manifest.herald_version
        );
    }
    Ok(manifest)
}

pub fn restore(backup: &Path, data_dir: &Path, force: bool) -> anyhow::Result<()> {
    let manifest = read_manifest(backup)?;
    let files: Vec<(String, u64, String)> = manifest
        .files
        .iter()
        .map(|f| (f.name.clone(), f.bytes, f.sha256.clone()))
        .collect();
    sqlite::restore(backup, &files, data_dir, force)
        .with_context(|| format!("restoring {} into {}", backup.display(), data_dir.display()))?;
    println!(
        "restored the backup of {} taken {} by Herald {} ({}) into {}: log up to position {}, processed up to {}{}",
        manifest.source,
        manifest.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        manifest.herald_version,
        manifest.herald_commit,
        data_dir.display(),
        manifest.log_head,
        manifest.state_cursor,
        if manifest.state_cursor < manifest.log_head {
            " (a server started on it applies the rest)"
        } else {
            ""
        }
    );
    Ok(())
}
