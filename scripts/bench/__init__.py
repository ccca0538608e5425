"""The benchmark harness behind ``make bench`` (entry point: scripts/bench_search.py).

- ``seed``: registrants in plain SQL, the benchmark sender through the ORM;
- ``envelopes``: signed DCI search envelopes and the access token;
- ``load``: the load generator (N requests on C threads, percentiles, errors);
- ``receiver``: the local callback receiver of the async scenarios;
- ``scenarios``: what each named scenario sends and checks;
- ``report``: the table, the targets and ``.odoo/bench.json``.
"""
