"""The Scrapy side of a cycle: settings, link finding, conditional GET, snapshots, landing items."""
