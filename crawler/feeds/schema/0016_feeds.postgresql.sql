-- The feeds' identity on PostgreSQL: as the SQLite step, with PostgreSQL's random UUID and clock.
CREATE TABLE feed_identity (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    uuid       TEXT NOT NULL,                      -- 32 hex digits
    created_at TEXT NOT NULL                       -- an empty feed's <updated>
);
INSERT INTO feed_identity(id, uuid, created_at)
    VALUES (1, replace(gen_random_uuid()::text, '-', ''),
            to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
