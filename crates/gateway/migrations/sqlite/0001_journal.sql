-- The interaction journal: one row per client request, chained per writer.
CREATE TABLE IF NOT EXISTS journal (
    writer        TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    id            TEXT    NOT NULL,
    at_ms         INTEGER NOT NULL,
    key_name      TEXT,
    team          TEXT,
    endpoint      TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    provider      TEXT,
    upstream_model TEXT,
    status        INTEGER NOT NULL,
    outcome       TEXT    NOT NULL,
    stream        INTEGER NOT NULL,
    attempts      INTEGER NOT NULL,
    first_byte_us INTEGER,
    latency_us    INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    entry         TEXT    NOT NULL,
    prev_mac      TEXT    NOT NULL,
    mac           TEXT    NOT NULL,
    PRIMARY KEY (writer, seq)
);
CREATE INDEX IF NOT EXISTS journal_at ON journal (at_ms);
CREATE INDEX IF NOT EXISTS journal_id ON journal (id);
CREATE INDEX IF NOT EXISTS journal_model ON journal (model, at_ms);
CREATE INDEX IF NOT EXISTS journal_key ON journal (key_name, at_ms);
