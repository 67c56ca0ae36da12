"""Running by itself: the cycle lock, the APScheduler daemon, status, log files."""
