"""Cycles as jobs on several workers: procrastinate (a PostgreSQL-based job queue) runs them.

``newsmon run --distributed`` (and ``newsmon schedule`` when the state is in PostgreSQL) enqueues one crawl
job per host group, each with a procrastinate ``lock`` named after the group's hosts, then one cycle job
that waits for them, sends the pending items to the ``translation`` queue in batches, waits for those, and
runs the remaining post-crawl stages and the export once. Any number of ``newsmon worker`` processes on any
machines take the jobs (``plan``: the groups and their locks; ``queue``: the app and its settings;
``tasks``: the jobs; ``cycle``: enqueueing, the cycle job's steps and waiting; ``crawljob``: the crawl
process of one group; ``translate``: one batch of items).
"""
