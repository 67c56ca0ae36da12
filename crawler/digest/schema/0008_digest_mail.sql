-- The day's digest sent to the [[alerts.channels]] that set `digest = true` (crawler/digest/mail.py).
-- One row per day and channel. A run sends the digest when the row is missing, not `delivered`, or when the
-- day now has more items than the copy last sent (new alerts alone do not resend: the alert channels carry them).
CREATE TABLE IF NOT EXISTS digest_deliveries (
    day          TEXT NOT NULL,                    -- YYYY-MM-DD of the digest
    channel      TEXT NOT NULL,                    -- channel name from [[alerts.channels]]
    status       TEXT NOT NULL,                    -- delivered | undelivered
    items        INTEGER NOT NULL,                 -- items of the copy last sent or tried
    alerts       INTEGER NOT NULL,                 -- alerts of that copy
    attempts     INTEGER NOT NULL DEFAULT 0,       -- all attempts, over every run
    last_error   TEXT,                             -- redacted: never holds a secret
    last_attempt TEXT,
    delivered_at TEXT,
    PRIMARY KEY (day, channel)
);
CREATE INDEX IF NOT EXISTS digest_deliveries_status ON digest_deliveries(status);
