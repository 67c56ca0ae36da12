"""Generic spiders, one per kind of entry point, each configured by a ``Section`` (no per-site code).

scrapy list
scrapy crawl listing -a section=kremlin-en/news      (from the repository root)
"""
