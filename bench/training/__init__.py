"""Benchmarks of the trainer's loop (issue #14): ``python -m bench.training``.

- :mod:`.inbox`: the inbox's query time with 100,000 stored turns.
- :mod:`.loop`: "Train" pressed → the new model answering on a running
  stack, and customer reply latency while the training job runs against idle.

Both write their part of ``bench/results/training-<date>.json``
(:mod:`.results`), with the machine's load average.
"""
