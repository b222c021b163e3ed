"""Benchmark tasks (docs/method.md §4): loading (hub or local files in the same schema), prompts,
and scoring with two engines: batched greedy generation (generation.py) and multiple-choice
log-likelihood with a shared context (loglik.py)."""
