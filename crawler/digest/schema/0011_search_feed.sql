-- The search index follows the item change feed (crawler/store/items.py, consumer "search") instead of
-- triggers on items: the triggers went with the old items table (0010); what they had queued and not yet
-- indexed becomes feed rows.
INSERT INTO item_changes(item_id, day, fields)
    SELECT p.id, COALESCE(i.day, ''), '*' FROM search_pending p LEFT JOIN items i ON i.id = p.id;
DROP TABLE search_pending;
