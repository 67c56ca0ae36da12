"""newsmon: multilingual news-monitoring crawler.

The package holds the logic as plain functions and small classes; ``spiders/`` and ``pipelines/`` only
adapt Scrapy to it (see docs/architecture.md).
"""

__version__ = "0.1.0"
