-- Each kept version's English beside its original (NULL: not translated while it was the latest version; an
-- English article's English is its own text, read from the original columns). `newsmon diff`, the digest's
-- edit blocks and the edits feed show both languages from here: the items row holds only the latest version.
ALTER TABLE article_versions ADD COLUMN title_en TEXT;
ALTER TABLE article_versions ADD COLUMN paragraphs_en TEXT;        -- JSON list aligned with paragraphs
