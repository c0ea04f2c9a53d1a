-- Where retention cut each writer's chain: the last entry removed, signed, so that
-- verification can start the chain after it and still catch any other removal.
CREATE TABLE IF NOT EXISTS journal_pruned (
    writer TEXT    NOT NULL PRIMARY KEY,
    seq    BIGINT NOT NULL,
    mac    TEXT    NOT NULL,
    at_ms  BIGINT NOT NULL,
    sig    TEXT    NOT NULL
);
