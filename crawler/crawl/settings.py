"""Scrapy settings (``scrapy.cfg``: ``[settings] default = crawler.crawl.settings``).

The module-level names are the static defaults Scrapy reads when run as ``scrapy list`` / ``scrapy crawl``
from the repository root. ``newsmon run`` builds its settings with ``for_config(config, …)``: these
defaults, then the ``[crawler]`` table of the config (politeness, User-Agent, timeouts), then the run's
own keys (``NEWSMON_*``: output directory, run id, day, refetch). ``crawler.runner`` sets
``SCRAPY_SETTINGS_MODULE`` itself, so the installed ``newsmon`` works from any directory.

The article re-checks fetch outside Scrapy but read their politeness from the same settings
(``crawler.crawl.politeness``), so these constants are its defaults for both stacks. They are also the defaults
of the ``[crawler]`` table (``SPEC``: each key's default is the value of the setting it drives); the shipped
``crawler/defaults.toml`` repeats them for the reader (tests/test_defaults.py holds the two equal).
"""

from __future__ import annotations

from typing import Any

from crawler.config import DEFAULT_OUTPUT_DIR, key_location
from crawler.exceptions import ConfigError
from crawler.tables import Spec, config_table

BOT_NAME = "newsmon"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Pipelines by dotted path (resolved at crawl time; tests load each one).
ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.language.LanguagePipeline": 200,
    "pipelines.store.StorePipeline": 300,
}

# Politeness: robots.txt, one request at a time per domain with a delay, AutoThrottle on top. The re-checks
# read USER_AGENT, DOWNLOAD_DELAY, DOWNLOAD_TIMEOUT, ROBOTSTXT_*, DOWNLOAD_MAXSIZE too (crawler.crawl.politeness).
ROBOTSTXT_OBEY = True
# Scrapy's default, stated because the re-checks parse robots.txt with it too: Protego, where the longest
# matching rule wins (an Allow under a broader Disallow), as in Google's and RFC 9309's reading.
ROBOTSTXT_PARSER = "scrapy.robotstxt.ProtegoRobotParser"
# A section's proxy set on each of its requests first (robots.txt is read per route, Scrapy's HttpProxyMiddleware
# at 750 sends it); robots.txt once per host per cycle, shared by the sections' crawlers (Scrapy's own is per
# crawler); the delay kept as a minimum gap per host across the cycle's crawlers and the re-checks, last, right
# before the download slot.
DOWNLOADER_MIDDLEWARES = {
    "crawler.crawl.proxies.SectionProxyMiddleware": 90,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.crawl.robots.SharedRobotsTxtMiddleware": 100,
    "crawler.crawl.gaps.GapMiddleware": 950,
}
CONCURRENT_REQUESTS = 8
# Scrapy processes a response's output (its items and follow-up requests) this many at a time, and starts that
# many asyncio tasks per response whatever it yields: its default, 100, cost ~2 ms of the reactor per article
# page, which yields one item. A listing's requests only enter the scheduler, so a few at a time lose nothing.
CONCURRENT_ITEMS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.5
# Scrapy's randomisation (±50%) could halve a gap; crawler.crawl.gaps lengthens it instead (× 1 to 1.5).
DOWNLOAD_DELAY_JITTER = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = DOWNLOAD_DELAY  # [crawler] download_delay sets both
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
USER_AGENT = "newsmon/0.1 (+https://github.com/newsmon/newsmon; news monitoring for a newsletter)"

DOWNLOAD_TIMEOUT = 30
# [crawler] max_page_bytes: a news page is well under 10 MB; a larger answer is refused whole (Scrapy's own
# default is 1 GiB, and each re-check thread holds its page in memory). Scrapy applies it to what arrives and to
# what a Content-Encoding inflates to; the sitemap spider to a .xml.gz it inflates itself.
DOWNLOAD_MAXSIZE = 10_000_000
# Scrapy warns of a page past this size that it keeps: none is kept past the limit, and the refusal is the
# spider's one line, so the two are equal (Scrapy's default, 32 MiB, would never warn anyway).
DOWNLOAD_WARNSIZE = DOWNLOAD_MAXSIZE
# Scrapy's defaults, stated because the spiders name them: a chain of more redirects is a failed page, and a
# longer link is skipped (by the spider, which says so; Scrapy's UrlLengthMiddleware would drop it unsaid).
REDIRECT_MAX_TIMES = 20
URLLENGTH_LIMIT = 2083
DNS_TIMEOUT = DOWNLOAD_TIMEOUT  # [crawler] timeout sets both
RETRY_TIMES = 2
# A host that does not resolve will not resolve a second later: fail at once (the next run retries).
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    OSError,
]
# The spider reports the final failure itself, once.
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"
COOKIES_ENABLED = False
# No control ports: Scrapy's telnet console and its remote-control HTTP server (on by default since
# Scrapy 2.19, it listens on a port and executes code sent to it) stay off in a nightly crawler.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Nor loaded: Scrapy imports every extension named here, even one set to None in EXTENSIONS, and the remote
# control's import (aiohttp's web server) alone took 80 ms of each run's start. Scrapy's list without the telnet
# console, the remote control, the memory debugger, feed exports and job state (neither of the last two used).
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}
# Item logs carry whole pages: log the URL and the reason only.
LOG_FORMATTER = "crawler.crawl.scrapylog.QuietLogFormatter"
LOG_LEVEL = "INFO"

# Run context, set by crawler.runner (or read from the environment by a bare `scrapy crawl`).
NEWSMON_CONFIG = None  # path of a user config file (None: the shipped defaults)
NEWSMON_OUTPUT_DIR = None  # None: the config's [crawler] output_dir
NEWSMON_RUN_ID = None  # None: the spider opens and closes a run of its own
NEWSMON_DAY = None
NEWSMON_REFETCH = False
# Extraction + language in worker processes, off the reactor: a number (0: in-line), or "auto" (one per core, at
# most 4, none on one core, started once the crawl has AUTO_AFTER_PAGES pages to analyse: crawler.extract.analysis).
NEWSMON_EXTRACTION_WORKERS: int | str = "auto"
NEWSMON_MAX_FURTHER_PAGES = 10  # further pages (…-2.html) fetched per article (crawler.extract.continuation)
NEWSMON_FURTHER_PAGE_RETRIES = 3  # re-checks that retry an incomplete article's missing pages (lifecycle.completion)
# Article links a section requests per run, at most ([crawler] max_links, per source/section too): the rest are
# named and counted as skipped, and requested by later runs (they are still not stored). 1,000 pages take ~25 min
# at the default delay; a listing of 100,000 links would take two days.
NEWSMON_MAX_LINKS = 1000

# [crawler] key → (expected types, Scrapy setting(s) it drives)
CRAWLER_KEYS: dict[str, tuple[tuple[type, ...], tuple[str, ...]]] = {
    "output_dir": ((str,), ()),
    "user_agent": ((str,), ("USER_AGENT",)),
    "obey_robots": ((bool,), ("ROBOTSTXT_OBEY",)),
    "concurrent_per_domain": ((int,), ("CONCURRENT_REQUESTS_PER_DOMAIN",)),
    "download_delay": ((int, float), ("DOWNLOAD_DELAY", "AUTOTHROTTLE_START_DELAY")),
    "autothrottle": ((bool,), ("AUTOTHROTTLE_ENABLED",)),
    "timeout": ((int, float), ("DOWNLOAD_TIMEOUT", "DNS_TIMEOUT")),
    "retries": ((int,), ("RETRY_TIMES",)),
    "refetch_known": ((bool,), ("NEWSMON_REFETCH",)),
    "extraction_workers": ((int, str), ("NEWSMON_EXTRACTION_WORKERS",)),
    "max_further_pages": ((int,), ("NEWSMON_MAX_FURTHER_PAGES",)),
    "further_page_retries": ((int,), ("NEWSMON_FURTHER_PAGE_RETRIES",)),
    "max_page_bytes": ((int,), ("DOWNLOAD_MAXSIZE", "DOWNLOAD_WARNSIZE")),
    "max_links": ((int,), ("NEWSMON_MAX_LINKS",)),
}


# The [crawler] table: key → (types, default, minimum), each default the module value of the first setting the key
# drives (output_dir drives none: crawler.config's).
SPEC: Spec = {
    key: (types, globals()[settings[0]] if settings else DEFAULT_OUTPUT_DIR, 0 if int in types else None)
    for key, (types, settings) in CRAWLER_KEYS.items()
}
# 0 would mean "no limit" to Scrapy and "nothing" to a link budget: neither is a setting worth allowing.
for _key in ("max_page_bytes", "max_links"):
    SPEC[_key] = (*SPEC[_key][:2], 1)


def crawler_table(config) -> dict[str, Any]:
    """The keys the ``[crawler]`` table sets, validated (a bad one is a ConfigError naming its line)."""
    table = config_table(config, "crawler", SPEC)
    if isinstance(table["extraction_workers"], str) and table["extraction_workers"] != "auto":
        raise ConfigError(
            f"{key_location(config, 'crawler', 'extraction_workers')}: [crawler] extraction_workers: expected a "
            f'number of processes or "auto", got {table["extraction_workers"]!r}'
        )
    return {key: value for key, value in table.items() if key in config.table("crawler")}


def for_config(config, **run: Any) -> dict[str, Any]:
    """Settings for one cycle: module defaults < ``[crawler]`` table < run keys (``NEWSMON_*``)."""
    out = {name: value for name, value in globals().items() if name.isupper()}
    for key, value in crawler_table(config).items():
        for setting in CRAWLER_KEYS[key][1]:
            out[setting] = value
    out.update({f"NEWSMON_{k.upper()}": v for k, v in run.items()})
    return out
