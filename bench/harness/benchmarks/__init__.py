"""One module per scripts/bench NAME, each defining BENCHMARK (see spec.py and bench/README.md)."""
