"""Prometheus metrics of the whole cluster (docs/metrics.md).

Counters and histograms of finished work are tallied in PostgreSQL, in the transaction that
finishes the job or the webhook attempt (``receivers``), so any API process answers ``/metrics``
for every worker on every machine; the current state (backlog, workers, broker queues) is read
live at scrape time (``collectors``). Latency measured inside a process (vector search) stays in
that process's registry (``process``) and the workers export it on their own port.
"""
