"""Benchmarks for the Canvas Progress provider: ``python -m benchmarks`` (``make bench``).

Each benchmark is one module; the figures are printed and written to ``docs/benchmarks.md`` with
plots under ``docs/_static/benchmarks/``. Nothing here asserts a timing: these are measurements,
not tests.

=====================  ==========================================================================
module                 what
=====================  ==========================================================================
``scale``              triggerer scale: N concurrent waits in one event loop, three styles
``throttle``           1,000 waits on one token against Canvas's leaky bucket
``worker_slots``       worker-slot-seconds held in poke, reschedule and deferrable mode
``hook_throughput``    sequential ``get_progress`` vs canvasapi's ``Progress.query()``
``wait_worker``        the child process that runs N waits of one style and measures itself
``waiters``            the three waiting styles (ours, session per poll, raw keep-alive floor)
``simulator_process``  the Canvas simulator in its own process, and its control API
``tls_front``          a TLS-terminating front for the simulator (HTTPS as Canvas is reached)
``wait_run``           the figures derived from one worker run
``loop_watch``         event-loop lag ticker and RSS sampler
``profiles``           the full and ``--quick`` sizes
``figures``            percentiles and other summaries
``machine``            facts about the machine and the load on it
``results``            everything one run measured, and its raw form on disk
``tables``             the result tables (console and Markdown)
``targets``            issue 6's targets, met or not
``findings``           what the figures say about the provider, with suggested fixes
``plots``/``report``   matplotlib figures; the console output and the Markdown results file
=====================  ==========================================================================
"""
