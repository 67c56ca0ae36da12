"""Stories: syndicated copies of one article across outlets and languages, grouped (PEERS.md pain point 10).

``fingerprint`` (shingles, MinHash, LSH bands; pure), ``index`` (the LSH index and stories in the state DB,
``schema/70-stories.sql``), ``stage`` (the post-crawl stage and the ``[stories]`` table), ``view`` (which
item of a story the digest shows in full).
"""
