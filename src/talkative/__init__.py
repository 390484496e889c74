"""Talkative: a self-hosted control plane for small business-workflow AI agents."""

# A plain constant (pyproject reads it): every skill run imports this package, and looking the
# version up through importlib.metadata would cost each run tens of milliseconds.
__version__ = "0.1.0"
