"""The crawl tests' site: every monitored site's pages on one loopback server, and a config pointing at it.

Recorded pages (tests/resources/recorded, see pages.json; the Kremlin ones are the demo's, served as the
demo serves them) are at their original paths; sites with no capture get the SYNTHETIC pages of
tests/resources/synthetic. Absolute links inside served pages are rewritten to the server
(``rewrite_hosts``) and the Kremlin mirror's relative links are turned back into the site's real ones
(``undo_wget_links``), so that every followed link stays on loopback.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from crawler.demo_site import demo_files, serve_recorded
from crawler.localsite import Route, SiteServer, page

RES = Path(__file__).resolve().parent / "resources"
REC, SYN = RES / "recorded", RES / "synthetic"
NEWS = "/events/president/news"
KREMLIN_IDS = ["63953", "63440", "62861", "62299", "57246", "56514", "52988", "17109", "11287", "8043", "34018"]
HTML = "text/html"  # no charset in the header: the page's own label decides
RSS = "application/rss+xml"


def kremlin_routes(server: SiteServer) -> None:
    """The Kremlin pages `newsmon demo` bundles, served as the demo serves them, and a synthetic archive."""
    serve_recorded(server, demo_files())
    server.routes["/events/president/transcripts/archive"] = page(SYN / "kremlin-en-archive.html")


def sitemap_routes(server: SiteServer) -> None:
    """A SYNTHETIC sitemap index (generated here) → a gzipped child sitemap listing one People's Daily
    article, as people.cn's sitemap_index.xml does."""
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    index = (
        f'<?xml version="1.0" encoding="UTF-8"?><!-- SYNTHETIC sitemap index for tests -->'
        f"<sitemapindex {ns}><sitemap><loc>{server.url}/sitemaps/politics-1.xml.gz</loc></sitemap>"
        f"</sitemapindex>"
    )
    child = (
        f'<?xml version="1.0" encoding="UTF-8"?><urlset {ns}>'
        f"<url><loc>{server.url}/n1/2024/0424/c1001-40223222.html</loc></url>"
        f"<url><loc>{server.url}/about.html</loc></url></urlset>"
    )
    server.routes["/sitemap_index.xml"] = Route(index.encode(), content_type="application/xml")
    server.routes["/sitemaps/politics-1.xml.gz"] = Route(
        gzip.compress(child.encode()), content_type="application/octet-stream"
    )


def chinese_routes(server: SiteServer) -> None:
    sitemap_routes(server)
    server.routes["/GB/157278/index.html"] = page(SYN / "peoples-daily-russia.html")
    # UTF-8 copies that still declare GB2312 (as saved copies do), and the GBK-bytes copy (as served).
    server.routes["/n1/2024/0424/c1001-40223222.html"] = page(
        REC / "peoples-daily/politics-2024-0424-c1001-40223222.html", HTML
    )
    server.routes["/n1/2019/0615/c1013-31153719.html"] = page(
        REC / "peoples-daily/culture-2019-0615-c1013-31153719.html", "text/html; charset=utf-8"
    )
    server.routes["/n1/2019/0615/c1013-91153719.html"] = page(
        REC / "peoples-daily/culture-2019-0615-c1013-31153719.SYNTHETIC-gbk-bytes.html", HTML
    )
    culture_further_pages(server)
    server.routes["/world/index.htm"] = page(SYN / "xinhua-world.html")
    server.routes["/world/2019-12/10/c_1125327450.htm"] = page(REC / "xinhua/world-2019-12-10-c_1125327450.html")
    server.routes["/local/2020-02/19/c_1125597921.htm"] = page(REC / "xinhua/local-2020-02-19-c_1125597921.html")
    server.routes["/news/2012-06/04/content_25340717.htm"] = page(
        REC / "xinhua/he-2012-06-04-content_25340717.gb2312.html", HTML
    )
    server.routes["/web/wjdt_674879/fyrbt_674889/"] = page(SYN / "fmprc-list.html")
    server.routes["/web/wjdt_674879/fyrbt_674889/202611/t20261102_11900001.shtml"] = page(SYN / "fmprc-article.html")


# The recorded culture article's pager lists 4 pages: SYNTHETIC pages 2-4, page 3 as GBK bytes (as served).
CULTURE_FURTHER = {
    2: ("peoples-daily-culture-31153719-2.SYNTHETIC.html", "text/html; charset=utf-8"),
    3: ("peoples-daily-culture-31153719-3.SYNTHETIC-gbk-bytes.html", HTML),
    4: ("peoples-daily-culture-31153719-4.SYNTHETIC.html", HTML),
}


def culture_further_pages(server: SiteServer) -> None:
    for number, (name, content_type) in CULTURE_FURTHER.items():
        server.routes[f"/n1/2019/0615/c1013-31153719-{number}.html"] = page(SYN / name, content_type)


def other_routes(server: SiteServer) -> None:
    server.routes["/rss/v2.xml"] = page(SYN / "tass-en.rss.xml", RSS, hosts={"https://tass.com": server.url})
    server.routes["/economy/1900001"] = page(SYN / "tass-en-article.html")
    server.routes["/tassru/rss/v2.xml"] = page(
        SYN / "tass-ru.rss.xml", RSS, hosts={"https://tass.ru": server.url + "/tassru"}
    )
    server.routes["/tassru/ekonomika/2900001"] = page(SYN / "tass-ru-article.html")
    server.routes["/ru/foreign_policy/news/"] = page(SYN / "mid-news.html")
    server.routes["/ru/foreign_policy/news/1990001/"] = page(SYN / "mid-article.html")
    server.routes["/rferl/"] = page(SYN / "rferl-home.html")
    server.routes["/a/synthetic-test-story-about-a-library/39000001.html"] = page(SYN / "rferl-article.html")
    # Legacy-encoded feeds (recorded) whose first entry's article is a synthetic page in the same charset.
    server.routes["/legacy/newsru.koi8-r.xml"] = page(
        REC / "encodings/KOI8-R/newsru.com.xml", RSS, hosts={"http://www.newsru.com": server.url}
    )
    server.routes["/world/03jan2006/ankara.html"] = page(SYN / "newsru-ankara.koi8-r.html", HTML)
    server.routes["/legacy/acnnewswire.gb2312.xml"] = page(
        REC / "encodings/GB2312/acnnewswire.net.xml", RSS, hosts={"http://www.acnnewswire.net": server.url}
    )
    server.routes["/Article.Asp?lang=_c&Art_ID=29698"] = page(SYN / "acnnewswire-29698.gb2312.html", HTML)


def serve_all(server: SiteServer) -> SiteServer:
    kremlin_routes(server)
    chinese_routes(server)
    other_routes(server)
    return server


CRAWLER_TABLE = """
replace_default_sources = true
[crawler]
download_delay = 0
autothrottle = false
retries = 0
timeout = 5
[lifecycle]
recheck_max = 0          # the crawl alone: the article re-checks (conditional GETs) stay off here
"""


def section(source: str, ident: str, kind: str, url: str, **rule) -> str:
    lines = [f'[[sources]]\nid = "{source}"\n[[sources.sections]]\nid = "{ident}"\nkind = "{kind}"\nurl = "{url}"']
    lines += [f"{k} = {v!r}" if not isinstance(v, str) else f"{k} = '{v}'" for k, v in rule.items()]
    return "\n".join(lines) + "\n"


def site_config(server: SiteServer) -> str:
    """Sections of every monitored site, pointed at ``server`` (politeness delays 0, no retries)."""
    u = server.url
    kremlin = rf"{NEWS}/({'|'.join(KREMLIN_IDS)})$"  # only the recorded articles of real listings
    n1 = r"/n1/\d{4}/\d{4}/c\d+-\d+\.html$"
    parts = [
        CRAWLER_TABLE,
        section("kremlin-en", "news-feed", "feed", f"{u}{NEWS}/feed", link_pattern=kremlin),
        section(
            "kremlin-en",
            "news",
            "listing",
            f"{u}{NEWS}/by-date/27.08.2020",
            link_css="h3.hentry__title a[rel=bookmark]",
            link_pattern=kremlin,
            next_css="a.more-next[rel=next]",
            max_pages=2,
        ),
        section(
            "kremlin-en",
            "archive",
            "listing",
            f"{u}/events/president/transcripts/archive",
            link_css="h3.hentry__title a[rel=bookmark]",
        ),
        section("peoples-daily", "sitemap", "sitemap", f"{u}/sitemap_index.xml", link_pattern=n1, max_pages=3),
        section(
            "peoples-daily",
            "russia",
            "listing",
            f"{u}/GB/157278/index.html",
            link_css='div.ej_bor a[href*="/n1/"]',
            link_pattern=n1,
        ),
        section(
            "xinhua",
            "world",
            "listing",
            f"{u}/world/index.htm",
            link_pattern=r"/\d{4}-\d{2}/\d{2}/(c_|content_)\d+\.htm$",
        ),
        section(
            "fmprc",
            "spokesperson",
            "listing",
            f"{u}/web/wjdt_674879/fyrbt_674889/",
            link_pattern=r"/t\d{8}_\d+\.s?html$",
            body_css=".content_text",
        ),
        section("tass-en", "all", "feed", f"{u}/rss/v2.xml", link_pattern=r"/[a-z-]+/\d+$"),
        section("tass-ru", "all", "feed", f"{u}/tassru/rss/v2.xml", link_pattern=r"/[a-z-]+/\d+$"),
        section(
            "mid-ru", "news", "listing", f"{u}/ru/foreign_policy/news/", link_pattern=r"/ru/foreign_policy/news/\d+/?$"
        ),
        section(
            "rferl",
            "home",
            "listing",
            f"{u}/rferl/",
            link_css='div.media-block a[href^="/a/"]',
            link_pattern=r"/a/[^/]+/\d+\.html$",
        ),
        section("newsru", "all", "feed", f"{u}/legacy/newsru.koi8-r.xml", link_pattern=r"/ankara\.html$"),
        section("acnnewswire", "all", "feed", f"{u}/legacy/acnnewswire.gb2312.xml", link_pattern=r"Art_ID=29698$"),
    ]
    return merge_sources(parts)


def merge_sources(parts: list[str]) -> str:
    """Sections of one source must sit under one [[sources]] table: drop repeated source headers."""
    out, seen = [], set()
    for part in parts:
        if part.startswith("[[sources]]"):
            header, rest = part.split("[[sources.sections]]", 1)
            if header in seen:
                part = "[[sources.sections]]" + rest
            seen.add(header)
        out.append(part)
    return "\n".join(out)


# Every article the site config should land: URL path → expected language.
EXPECTED = {
    **{f"{NEWS}/{i}": "en" for i in KREMLIN_IDS},
    "/n1/2024/0424/c1001-40223222.html": "zh",
    "/n1/2019/0615/c1013-31153719.html": "zh",
    "/n1/2019/0615/c1013-91153719.html": "zh",
    "/world/2019-12/10/c_1125327450.htm": "zh",
    "/local/2020-02/19/c_1125597921.htm": "zh",
    "/news/2012-06/04/content_25340717.htm": "zh",
    "/web/wjdt_674879/fyrbt_674889/202611/t20261102_11900001.shtml": "zh",
    "/economy/1900001": "en",
    "/tassru/ekonomika/2900001": "ru",
    "/ru/foreign_policy/news/1990001/": "ru",
    "/a/synthetic-test-story-about-a-library/39000001.html": "en",
    "/world/03jan2006/ankara.html": "ru",
    "/Article.Asp?lang=_c&Art_ID=29698": "zh",
}
