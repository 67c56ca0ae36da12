-- Keyword in context (crawler/watch/context.py): each hit keeps the sentence around its matches, in the
-- original and in the aligned English paragraph, as a JSON list ('[]' until the item is matched again).
ALTER TABLE watch_hits ADD COLUMN contexts TEXT NOT NULL DEFAULT '[]';

-- The items that have hits are matched again by the next watch matching (the run's stage or `newsmon
-- watch`), which fills their contexts here and in their `watch` field; announced hits are not announced again.
INSERT INTO item_changes(item_id, day, fields)
    SELECT h.item_id, i.day, 'title' FROM (SELECT DISTINCT item_id FROM watch_hits) h JOIN items i ON i.id = h.item_id;
