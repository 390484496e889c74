"""The provider interface: a request (context, message, offered skills) in, an interpretation out.

Providers are plugins: every module of this package other than this one (and `_private` ones)
defines `build(env, options) -> Provider`, and `build_providers` finds them, so adding a provider
is adding one module and touches nothing else.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from talkative.conversation.schemas import Interpretation
from talkative.llm_router import providers as _package

ErrorKind = Literal["not_configured", "timeout", "unavailable", "invalid_answer", "http_error"]
SkillOffer = tuple[str, str]  # (name, description)
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 2
# Chat formats wrap each message in a few role and separator tokens (OpenAI documents 3 to 4) and
# prime the reply with a few more; these bounds are generous so that no format exceeds them.
MESSAGE_OVERHEAD_TOKENS = 8
REQUEST_OVERHEAD_TOKENS = 8
# Fields of a chat body that the model never reads as input.
_NOT_INPUT = frozenset({"model", "messages", "max_tokens", "max_completion_tokens", "n", "stream"})


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    model: str  # the part after "<provider>/" ("" for local)
    prompt: str  # the context text built for this run
    message: str  # the user's message alone
    skills: Sequence[SkillOffer]
    max_tokens: int


@dataclass(frozen=True, slots=True)
class Completion:
    interpretation: Interpretation
    selected_skills: list[str]  # skills the model chose to run, among those offered
    prompt_tokens: int
    completion_tokens: int
    raw_model: str  # the model that answered, as the provider named it


class ProviderError(Exception):
    """A call that produced no usable answer; the message is safe to store and show (no secrets)."""

    def __init__(self, kind: ErrorKind, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status_code = status_code


@runtime_checkable
class Provider(Protocol):
    name: str

    def configured(self) -> bool:
        """Whether calls can be sent (credentials present); the router falls back to local if not."""
        ...

    def input_bound(self, request: CompletionRequest) -> int:
        """The most input tokens the provider can bill for `request` as `complete` sends it.

        Budgets hold this (plus `max_tokens` of output) before the call, so it must never be below
        the provider's count: compute it from the very body `complete` sends (`chat_input_bound`).
        """
        ...

    async def complete(self, request: CompletionRequest) -> Completion:
        """The interpretation of `request`; raises `ProviderError` and nothing else for a failed call."""
        ...

    async def aclose(self) -> None:
        """Releases connections; called once at shutdown."""
        ...


@dataclass(frozen=True, slots=True)
class ProviderOptions:
    timeout_s: float = DEFAULT_TIMEOUT_S  # per attempt
    max_retries: int = DEFAULT_MAX_RETRIES  # attempts = 1 + max_retries


def chat_input_bound(body: Mapping[str, Any]) -> int:
    """An upper bound of the input tokens of a chat-completions body, whatever the tokenizer.

    A byte-level BPE token stands for at least one byte of UTF-8, so a text has no more tokens than
    bytes. Every message counts its text fields' bytes (a non-text content as its JSON) plus the
    role and separator tokens; every other input field of the body (tools, response format...)
    counts as its JSON, which is never shorter than what the provider renders from it.
    """
    tokens = REQUEST_OVERHEAD_TOKENS
    for message in body.get("messages", ()):
        tokens += MESSAGE_OVERHEAD_TOKENS
        for value in message.values():
            tokens += _utf8_bytes(value)
    extra = {key: value for key, value in body.items() if key not in _NOT_INPUT}
    return tokens + (_utf8_bytes(extra) if extra else 0)


def _utf8_bytes(value: object) -> int:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return len(text.encode("utf-8", "surrogatepass"))


ProviderFactory = Callable[[Mapping[str, str], ProviderOptions], Provider]


def build_providers(
    env: Mapping[str, str], *, timeout_s: float = DEFAULT_TIMEOUT_S, max_retries: int = DEFAULT_MAX_RETRIES
) -> dict[str, Provider]:
    """Every provider plugin, by name, configured from `env` (the server passes `os.environ`)."""
    options = ProviderOptions(timeout_s=timeout_s, max_retries=max_retries)
    found: dict[str, Provider] = {}
    for name, factory in plugin_factories().items():
        provider = factory(env, options)
        if not isinstance(provider, Provider):
            raise TypeError(f"provider module {name!r}: build() did not return a Provider")
        if provider.name in found:
            raise ValueError(f"two provider modules are named {provider.name!r}")
        found[provider.name] = provider
    return found


def plugin_factories() -> dict[str, ProviderFactory]:
    """`build` of each provider module of this package, by module name, in name order."""
    factories: dict[str, ProviderFactory] = {}
    for info in sorted(pkgutil.iter_modules(_package.__path__), key=lambda m: m.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_package.__name__}.{info.name}")
        factory = getattr(module, "build", None)
        if not callable(factory):
            raise TypeError(f"provider module {info.name!r} has no build(env, options) function")
        factories[info.name] = factory
    return factories


async def close_providers(providers: Mapping[str, Provider]) -> None:
    for provider in providers.values():
        await provider.aclose()
