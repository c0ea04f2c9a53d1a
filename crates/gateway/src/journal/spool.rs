//! The spool: an append-only JSON Lines file per sink where sealed entries wait while
//! that sink is down, replayed in order when it is back (and at the next start, if the
//! process stopped first). Entries keep their seal, so a replay re-sends exactly what
//! was signed, and the store ignores an entry it already has.
//!
//! Must never drop an entry silently: a spool that cannot be written is reported to the
//! writer, which counts the entries as lost and logs it.

use super::chain::Sealed;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    /// Entries in the file (counted at open, kept since).
    held: u64,
}

/// Entries replayed per write while catching up.
pub const REPLAY_BATCH: usize = 512;

impl Spool {
    /// Opens `dir/<name>.spool.jsonl` (created on first use), counting what an earlier
    /// run left in it.
    pub async fn open(dir: &std::path::Path, name: &str) -> std::io::Result<Self> {
        let path = dir.join(format!("{name}.spool.jsonl"));
        let held = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes.iter().filter(|b| **b == b'\n').count() as u64,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        Ok(Self { path, held })
    }

    pub fn held(&self) -> u64 {
        self.held
    }

    pub async fn append(&mut self, batch: &[Sealed]) -> std::io::Result<()> {
        let mut text = String::new();
        for sealed in batch {
            text.push_str(&serde_json::to_string(sealed).unwrap_or_default());
            text.push('\n');
        }
        if let Some(dir) = self.path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        file.write_all(text.as_bytes()).await?;
        file.sync_data().await?;
        self.held += batch.len() as u64;
        Ok(())
    }

    /// Everything held, in the order it was spooled; lines that do not parse (a torn
    /// last line after a crash) are skipped and counted in the second value.
    pub async fn read(&self) -> std::io::Result<(Vec<Sealed>, u64)> {
        let text = match tokio::fs::read_to_string(&self.path).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(e),
        };
        let mut torn = 0;
        let entries = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|line| match serde_json::from_str::<Sealed>(line) {
                Ok(sealed) => Some(sealed),
                Err(_) => {
                    torn += 1;
                    None
                }
            })
            .collect();
        Ok((entries, torn))
    }

    /// Empties the spool once everything in it reached the sink.
    pub async fn clear(&mut self) -> std::io::Result<()> {
        match tokio::fs::remove_file(&self.path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.held = 0;
        Ok(())
    }
}
