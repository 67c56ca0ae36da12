"""A post-crawl stage's module for tests/test_beside_crawl.py: the crawl imports it while it runs."""


def run_stage(_ctx) -> dict:
    return {}
