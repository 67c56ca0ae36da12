"""The loopback site server lives in the package (``newsmon demo`` uses it too); tests import it here."""

from crawler.localsite import Route, SiteServer, http_date, page, rewrite_hosts, write_loopback_config

__all__ = ["Route", "SiteServer", "http_date", "page", "rewrite_hosts", "write_loopback_config"]
