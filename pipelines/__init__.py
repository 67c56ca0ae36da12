"""Thin Scrapy item pipelines: extract → language → store, each calling a plain function in crawler/."""
