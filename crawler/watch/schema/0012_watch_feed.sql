-- Watch matching follows the item change feed (crawler/store/items.py, consumer "watch") instead of
-- triggers on items: the triggers went with the old items table (0010); what they had queued and not yet
-- matched becomes feed rows.
INSERT INTO item_changes(item_id, day, fields)
    SELECT p.id, COALESCE(i.day, ''), '*' FROM watch_pending p JOIN items i ON i.id = p.id;
DROP TABLE watch_pending;
