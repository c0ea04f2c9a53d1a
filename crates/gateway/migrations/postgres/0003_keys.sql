-- Virtual keys: the secret is kept only as its SHA-256 (`hash`, hex); `prefix` is the
-- first characters of the secret, enough to recognise a key in a list, not to use it.
CREATE TABLE IF NOT EXISTS keys (
    id             TEXT   PRIMARY KEY,
    name           TEXT   NOT NULL,
    team           TEXT,
    prefix         TEXT   NOT NULL,
    hash           TEXT   NOT NULL UNIQUE,
    models         TEXT   NOT NULL,
    metadata       TEXT   NOT NULL,
    limits         TEXT   NOT NULL,
    expires_at_ms  BIGINT,
    revoked_at_ms  BIGINT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS keys_updated ON keys (updated_at_ms);
-- What each interaction cost, as columns so that spend is summed by the database.
ALTER TABLE journal ADD COLUMN cost_micros BIGINT;
ALTER TABLE journal ADD COLUMN tokens_in BIGINT;
ALTER TABLE journal ADD COLUMN tokens_out BIGINT;
CREATE INDEX IF NOT EXISTS journal_team ON journal (team, at_ms);
