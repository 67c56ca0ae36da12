-- The further pages of multi-page articles (crawler.extract.continuation), merged or missing, keyed by
-- canonical URL: once its article is stored, a further page linked on its own ("…-2.html" in a listing)
-- counts as known and is not fetched (crawler.crawl.store.known_urls).
CREATE TABLE IF NOT EXISTS article_pages (
    canonical_url TEXT PRIMARY KEY,
    article_id    TEXT NOT NULL               -- articles.id of the article it belongs to
);
