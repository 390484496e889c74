"""Talkative benchmarks: a load driver over the public HTTP API and a runner (`make bench`)."""
