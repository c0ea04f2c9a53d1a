-- The interaction journal: one row per client request, chained per writer.
CREATE TABLE IF NOT EXISTS journal (
    writer        TEXT    NOT NULL,
    seq           BIGINT NOT NULL,
    id            TEXT    NOT NULL,
    at_ms         BIGINT NOT NULL,
    key_name      TEXT,
    team          TEXT,
    endpoint      TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    provider      TEXT,
    upstream_model TEXT,
    status        BIGINT NOT NULL,
    outcome       TEXT    NOT NULL,
    stream        BOOLEAN NOT NULL,
    attempts      BIGINT NOT NULL,
    first_byte_us BIGINT,
    latency_us    BIGINT NOT NULL,
    input_tokens  BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    entry         TEXT    NOT NULL,
    prev_mac      TEXT    NOT NULL,
    mac           TEXT    NOT NULL,
    PRIMARY KEY (writer, seq)
);
CREATE INDEX IF NOT EXISTS journal_at ON journal (at_ms);
CREATE INDEX IF NOT EXISTS journal_id ON journal (id);
CREATE INDEX IF NOT EXISTS journal_model ON journal (model, at_ms);
CREATE INDEX IF NOT EXISTS journal_key ON journal (key_name, at_ms);
