"""A host whose sandbox probe answers as told: which layers fail alone, and which fail together."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import pytest

from talkative.tools import isolation
from talkative.tools.schemas import SandboxPolicy


class FakeHost:
    """Stands in for `isolation.probe`; records each probe as (policy, layers)."""

    def __init__(self) -> None:
        self.alone: dict[str, str] = {}  # layer -> why it fails even on its own
        self.together: dict[str, str] = {}  # layer -> why it fails next to the others
        self.probes: list[tuple[SandboxPolicy, tuple[str, ...]]] = []

    def probe(self, policy: SandboxPolicy, layers: Sequence[str] = isolation.LAYERS) -> dict[str, str]:
        self.probes.append((policy, tuple(layers)))
        failed = {layer: self.alone[layer] for layer in layers if layer in self.alone}
        if len(layers) > 1:
            failed.update({layer: why for layer, why in self.together.items() if layer in layers})
        return failed


@contextlib.contextmanager
def fake_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHost]:
    """This host's probe replaced, and its cached answers forgotten before and after."""
    host = FakeHost()
    monkeypatch.setattr(isolation, "probe", host.probe)
    isolation.reset()
    try:
        yield host
    finally:
        isolation.reset()
