-- The feeds' identity: a random UUID made once per state DB. Every feed and entry id is a name-based UUID
-- (uuid5) under it, derived from the feed's name or the event's id, so ids are stable from run to run and
-- never collide with another newsmon's (whose event ids may be the same: they count runs from 1 too).
CREATE TABLE feed_identity (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    uuid       TEXT NOT NULL,                      -- 32 hex digits
    created_at TEXT NOT NULL                       -- an empty feed's <updated>
);
INSERT INTO feed_identity(id, uuid, created_at) VALUES (1, lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
