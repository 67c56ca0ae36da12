-- Shingles are hashed another way (from their words' hashes, in numpy): a stored signature cannot be compared
-- with a new one. Every item leaves the LSH index and keeps its story; the next stories stage fingerprints
-- again those fetched within [stories] index_days (stage.pending: an item in the window, not indexed).
DELETE FROM story_bands;
UPDATE story_items SET indexed = 0, signature = NULL, signature_en = NULL;
