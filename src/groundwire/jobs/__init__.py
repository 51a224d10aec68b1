"""Durable background jobs on the store's PostgreSQL (procrastinate).

* ``states.py``  job states, allowed transitions, the ``JobRecord`` value (stdlib only)
* ``service.py`` ``JobService``: enqueue, get/list, cancel, retry, wait; the ``jobs`` table
                 (migration 0009) beside procrastinate's queue tables
* ``tasks.py``   the task bodies (ingest, assessment, version build) and their retry strategy
* ``worker.py``  ``run_worker``: a procrastinate worker plus the stalled-job re-queuer

Nothing here does work at import time.
"""
