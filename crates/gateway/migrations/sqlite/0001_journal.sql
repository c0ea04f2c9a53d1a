-- The interaction journal: one row per client request, chained per writer. `entry` is
-- the signed JSON; the other columns are what queries filter on.
CREATE TABLE IF NOT EXISTS journal (
    writer        TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    id            TEXT    NOT NULL,
    at_ms         INTEGER NOT NULL,
    key_name      TEXT,
    team          TEXT,
    model         TEXT    NOT NULL,
    provider      TEXT,
    status        INTEGER NOT NULL,
    entry         TEXT    NOT NULL,
    prev_mac      TEXT    NOT NULL,
    mac           TEXT    NOT NULL,
    PRIMARY KEY (writer, seq)
);
CREATE INDEX IF NOT EXISTS journal_at ON journal (at_ms);
CREATE INDEX IF NOT EXISTS journal_id ON journal (id);
CREATE INDEX IF NOT EXISTS journal_model ON journal (model, at_ms);
CREATE INDEX IF NOT EXISTS journal_key ON journal (key_name, at_ms);
