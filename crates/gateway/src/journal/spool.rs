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
    /// Bytes from the file's start already written to the sink by a replay that has
    /// not finished: a retry resumes there instead of sending them again.
    replayed: u64,
}

/// Entries replayed per write while catching up.
pub const REPLAY_BATCH: usize = 512;

/// One piece of the spool read for a replay.
#[derive(Debug)]
pub struct Chunk {
    pub entries: Vec<Sealed>,
    /// Lines that do not parse (a torn last line after a crash).
    pub torn: u64,
    /// Where the next chunk starts; `advance` to it once `entries` reached the sink.
    pub end: u64,
}

impl Spool {
    /// Opens `dir/<name>.spool.jsonl` (created on first use), counting what an earlier
    /// run left in it. Read in pieces: a spool of a long outage may not fit in memory.
    pub async fn open(dir: &std::path::Path, name: &str) -> std::io::Result<Self> {
        use tokio::io::AsyncReadExt;
        let path = dir.join(format!("{name}.spool.jsonl"));
        let mut held = 0u64;
        match tokio::fs::File::open(&path).await {
            Ok(mut file) => {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = file.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    held += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Self {
            path,
            held,
            replayed: 0,
        })
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

    /// The next at most `max` entries not yet replayed, in the order they were spooled,
    /// or `None` at the end. Memory holds one chunk, never the whole spool.
    pub async fn next_chunk(&self, max: usize) -> std::io::Result<Option<Chunk>> {
        use tokio::io::{AsyncBufReadExt, AsyncSeekExt};
        let mut file = match tokio::fs::File::open(&self.path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        file.seek(std::io::SeekFrom::Start(self.replayed)).await?;
        let mut reader = tokio::io::BufReader::new(file);
        let mut chunk = Chunk {
            entries: Vec::new(),
            torn: 0,
            end: self.replayed,
        };
        // Bytes, not a `String`: a line a crash cut inside a multi-byte character is
        // one torn line, where `read_line` failed the whole replay on it, every retry.
        let mut line = Vec::new();
        while chunk.entries.len() < max {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).await?;
            if n == 0 {
                break;
            }
            chunk.end += n as u64;
            if line.trim_ascii().is_empty() {
                continue;
            }
            match serde_json::from_slice::<Sealed>(&line) {
                Ok(sealed) => chunk.entries.push(sealed),
                Err(_) => chunk.torn += 1,
            }
        }
        Ok((chunk.end > self.replayed).then_some(chunk))
    }

    /// Marks the spool up to `end` (a chunk's) as written to the sink.
    pub fn advance(&mut self, end: u64) {
        self.replayed = end;
    }

    /// Empties the spool once everything in it reached the sink.
    pub async fn clear(&mut self) -> std::io::Result<()> {
        match tokio::fs::remove_file(&self.path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.held = 0;
        self.replayed = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::chain::Chain;
    use crate::journal::entry::Entry;

    fn sealed(chain: &mut Chain, n: usize) -> Vec<Sealed> {
        (0..n)
            .map(|i| {
                chain.seal(Entry {
                    id: format!("e{i}"),
                    model: "m".to_owned(),
                    ..Entry::unreadable()
                })
            })
            .collect()
    }

    #[tokio::test]
    async fn a_replay_reads_chunks_resumes_after_the_last_written_and_counts_torn_lines() {
        let dir = tempfile::tempdir().expect("dir");
        let mut chain = Chain::new(None, "w".to_owned());
        let mut spool = Spool::open(dir.path(), "s").await.expect("open");
        spool
            .append(&sealed(&mut chain, 1200))
            .await
            .expect("append");
        // A crash tore the last line, inside a two-byte character (not UTF-8 then).
        let path = dir.path().join("s.spool.jsonl");
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.extend_from_slice(b"{\"writer\":\"w\",\"se\xc3");
        std::fs::write(&path, bytes).expect("tear");
        let reopened = Spool::open(dir.path(), "s").await.expect("reopen");
        assert_eq!(reopened.held(), 1200);

        let first = spool.next_chunk(512).await.expect("read").expect("a chunk");
        assert_eq!(first.entries.len(), 512);
        assert_eq!(first.entries[0].seq, 1);
        // Not advanced (the sink failed): the retry reads the same chunk again.
        let again = spool.next_chunk(512).await.expect("read").expect("a chunk");
        assert_eq!(again.entries[0].seq, 1);
        spool.advance(first.end);
        let second = spool.next_chunk(512).await.expect("read").expect("a chunk");
        assert_eq!(second.entries[0].seq, 513);
        spool.advance(second.end);
        let last = spool.next_chunk(512).await.expect("read").expect("a chunk");
        assert_eq!((last.entries.len(), last.torn), (176, 1));
        assert_eq!(last.entries.last().map(|s| s.seq), Some(1200));
        spool.advance(last.end);
        assert!(spool.next_chunk(512).await.expect("read").is_none());
        spool.clear().await.expect("clear");
        assert!(spool.next_chunk(512).await.expect("read").is_none());
        assert_eq!(spool.held(), 0);
    }
}
