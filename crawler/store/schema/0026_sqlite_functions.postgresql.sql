-- SQLite's json_valid(text) (1 for well-formed JSON), which PostgreSQL 15 lacks: a damaged items row is
-- named by the readers that check it, never an error for them.
CREATE OR REPLACE FUNCTION json_valid(doc TEXT) RETURNS BOOLEAN LANGUAGE plpgsql IMMUTABLE AS '
BEGIN
    PERFORM doc::jsonb;
    RETURN TRUE;
EXCEPTION WHEN others THEN
    RETURN FALSE;
END;
';
