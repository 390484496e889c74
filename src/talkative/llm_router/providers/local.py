"""The offline provider: the deterministic local interpreter, free, with estimated token counts."""

from __future__ import annotations

from collections.abc import Mapping

from talkative.conversation.interpreter import LocalInterpreter
from talkative.llm_router.providers.base import Completion, CompletionRequest, ProviderOptions
from talkative.tokens import estimate_tokens

NAME = "local"


class LocalProvider:
    name: str = NAME

    def __init__(self, interpreter: LocalInterpreter | None = None) -> None:
        self._interpreter = interpreter or LocalInterpreter()

    def configured(self) -> bool:
        return True

    def input_bound(self, request: CompletionRequest) -> int:
        return 0  # nothing is billed

    async def complete(self, request: CompletionRequest) -> Completion:
        # Only the message is interpreted: the context's skills and events are not tasks to do.
        interpretation = self._interpreter.interpret(request.message)
        return Completion(
            interpretation=interpretation,
            selected_skills=[],
            prompt_tokens=estimate_tokens(request.prompt),
            completion_tokens=estimate_tokens(interpretation.model_dump_json()),
            raw_model=NAME,
        )

    async def aclose(self) -> None:
        return None


def build(env: Mapping[str, str], options: ProviderOptions) -> LocalProvider:
    return LocalProvider()
