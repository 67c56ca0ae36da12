"""Scrapy log messages without whole items in them (an item carries a whole page)."""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


def _url_of(item) -> str:
    page = item.get("page") if isinstance(item, dict) else None
    return getattr(page, "url", "?")


class QuietLogFormatter(LogFormatter):
    def scraped(self, item, response, spider):
        return {"level": logging.DEBUG, "msg": "Scraped %(url)s", "args": {"url": _url_of(item)}}

    def dropped(self, item, exception, response, spider):
        # The pipeline that dropped the item has already logged the reason as a warning.
        return {
            "level": logging.DEBUG,
            "msg": "Dropped %(url)s: %(reason)s",
            "args": {"url": _url_of(item), "reason": exception},
        }

    def item_error(self, item, exception, response, spider):
        return {"level": logging.ERROR, "msg": "Error processing %(url)s", "args": {"url": _url_of(item)}}
