-- Each journal writer (one per gateway process) and when it last wrote a batch, updated
-- in the batch's transaction: `sluice journal tail` follows the writers that write,
-- each by its sequence numbers, so an entry written late (a long stream's, stamped with
-- its start) is still shown, and finds a writer that starts after it.
CREATE TABLE IF NOT EXISTS journal_writers (
    writer        TEXT   NOT NULL PRIMARY KEY,
    last_at_ms    BIGINT NOT NULL
);
