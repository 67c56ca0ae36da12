-- Items out of the LSH index keep their story, not their MinHash signatures: only an indexed item is ever a
-- candidate, and an item that old is never fingerprinted again (StoryIndex.prune drops them from now on).
UPDATE story_items SET signature = NULL, signature_en = NULL WHERE indexed = 0;
