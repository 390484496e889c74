"""The token estimate the context builder and the model providers share; imports nothing from talkative."""

from __future__ import annotations

import math

# A rough heuristic (about four characters per token for English text), shared by the context
# builder and the router's providers so budgets and recorded usage agree; it is not any real
# model's tokenizer.
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """ceil(len/4): a rough heuristic, not a tokenizer."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)
