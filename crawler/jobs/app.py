"""The procrastinate app: the queue's database and newsmon's jobs registered on it."""

from __future__ import annotations

from typing import Any

from crawler.exceptions import NewsmonError

_apps: dict[str, Any] = {}  # URL → its app: the jobs' blueprint is registered on one app per process


def make_app(url: str) -> Any:
    """A procrastinate App on ``url`` with newsmon's jobs (``crawler.jobs.tasks``) as ``newsmon:<name>``."""
    if _apps:
        if url not in _apps:
            raise NewsmonError("one job queue per process: jobs are registered on the first queue opened")
        return _apps[url]
    try:
        import procrastinate
    except ImportError:
        raise NewsmonError("jobs need procrastinate: pip install 'newsmon[postgresql]'") from None
    from crawler.jobs.tasks import blueprint

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    app.add_tasks_from(blueprint, namespace="newsmon")
    _apps[url] = app
    return app
