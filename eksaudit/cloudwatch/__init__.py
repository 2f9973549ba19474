"""CloudWatch Logs: the shared client, our own paging loop, window fetch, live tail, pushdown."""
