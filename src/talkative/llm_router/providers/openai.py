"""Any OpenAI-compatible endpoint, through the official SDK: the model answers tasks, links and skills.

Configured by the standard `OPENAI_API_KEY` (required) and `OPENAI_BASE_URL` (optional) taken from
the mapping given to `build`; the key lives only inside the SDK client. Error messages are written
here from fixed text and numbers, never from the SDK's or the server's text (a 401 body can quote
part of the key), and SDK exceptions are not chained onto them (neither `__cause__` nor
`__context__`), so no traceback or error reporter carries that text either.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from talkative.conversation.interpreter import assemble
from talkative.conversation.schemas import (
    MAX_TASK_CHARS,
    MAX_TASKS,
    Interpretation,
    TaskName,
    task_key,
)
from talkative.llm_router.providers.base import (
    Completion,
    CompletionRequest,
    ErrorKind,
    ProviderError,
    ProviderOptions,
    SkillOffer,
    chat_input_bound,
)
from talkative.tokens import estimate_tokens

if TYPE_CHECKING:
    # The SDK costs ~15 MB of memory and is imported only once a key is configured (see __init__).
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
    from openai.types.shared_params import ResponseFormatJSONObject

NAME = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_ANSWER_SKILLS = 50
_MAX_DESCRIPTION_CHARS = 300
_MAX_MODEL_CHARS = 100
_MIN_SECRET_CHARS = 8
# The SDK bounds each attempt; this bounds the whole call (a server trickling bytes never trips a
# per-read timeout), leaving room for the SDK's backoff between attempts (at most 8 s each).
_BACKOFF_ALLOWANCE_S = 10.0

_SYSTEM = """\
You turn a message sent to a business-automation agent into a small workflow.
Answer with one JSON object and nothing else, exactly of this shape:
{{"tasks": ["<task>", ...], "links": [[<i>, <j>], ...], "skills": ["<skill name>", ...]}}
- tasks: the distinct tasks the message asks for, in order, each a short imperative phrase in the \
language of the message (at most {max_chars} characters); at most {max_tasks}; [] when there is none.
- links: [i, j] means task i must happen before task j; i and j are 0-based positions in tasks.
- skills: the names of the offered skills that should run for these tasks; [] when none fits.
Offered skills (name: description):
{skills}"""


class Answer(BaseModel):
    """The JSON the model must return; `links` are validated against `tasks`."""

    model_config = ConfigDict(extra="ignore")

    tasks: list[TaskName] = Field(default_factory=list, max_length=MAX_TASKS)
    links: list[tuple[StrictInt, StrictInt]] = Field(default_factory=list, max_length=MAX_TASKS)
    skills: list[str] = Field(default_factory=list, max_length=MAX_ANSWER_SKILLS)

    @model_validator(mode="after")
    def _links_within_tasks(self) -> Answer:
        for n, (i, j) in enumerate(self.links):
            if not (0 <= i < len(self.tasks) and 0 <= j < len(self.tasks)) or i == j:
                raise ValueError(
                    f"links[{n}] = [{i}, {j}] is not a pair of two tasks 0..{len(self.tasks) - 1}"
                )
        return self


def _sdk() -> ModuleType:
    import openai

    return openai


class OpenAIProvider:
    name: str = NAME

    def __init__(self, *, api_key: str | None, base_url: str | None, options: ProviderOptions) -> None:
        self._options = options
        self._base_url = base_url or DEFAULT_BASE_URL
        if urlsplit(self._base_url).scheme not in ("http", "https"):
            raise ValueError("OPENAI_BASE_URL must be an http:// or https:// URL")
        self._client: AsyncOpenAI | None = (
            _sdk().AsyncOpenAI(
                api_key=api_key,
                base_url=self._base_url,
                timeout=options.timeout_s,
                max_retries=options.max_retries,
            )
            if api_key
            else None
        )

    def __repr__(self) -> str:
        host = urlsplit(self._base_url).hostname
        return f"OpenAIProvider(host={host!r}, configured={self.configured()})"

    def configured(self) -> bool:
        return self._client is not None

    def input_bound(self, request: CompletionRequest) -> int:
        return chat_input_bound(chat_body(request))

    async def complete(self, request: CompletionRequest) -> Completion:
        if self._client is None:
            raise ProviderError("not_configured", "openai: not configured (set OPENAI_API_KEY)")
        body = chat_body(request)
        response = await self._send(body)
        content = _content(response)
        if not content:
            raise self._error("invalid_answer", "openai: the answer has no text content")
        interpretation, skills = parse_answer(content, offered=request.skills, message=request.message)
        # Without a reported usage the bound held for the call is the honest figure.
        prompt_tokens, completion_tokens = _usage(response) or (
            chat_input_bound(body),
            estimate_tokens(content),
        )
        model = getattr(response, "model", None)
        return Completion(
            interpretation=interpretation,
            selected_skills=skills,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            raw_model=model[:_MAX_MODEL_CHARS] if isinstance(model, str) and model else request.model,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def _send(self, body: ChatBody) -> ChatCompletion:
        assert self._client is not None
        sdk = _sdk()
        attempts = self._options.max_retries + 1
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        deadline = attempts * self._options.timeout_s + self._options.max_retries * _BACKOFF_ALLOWANCE_S
        try:
            async with asyncio.timeout(deadline):
                response: ChatCompletion = await self._client.chat.completions.create(**body)
                return response
        except (sdk.APITimeoutError, TimeoutError):
            timeout_s = self._options.timeout_s
            error = self._error("timeout", f"openai: no answer within {timeout_s:g}s ({tries})")
        except sdk.APIConnectionError:
            error = self._error("unavailable", f"openai: cannot reach the endpoint ({tries})")
        except sdk.APIStatusError as exc:
            error = self._status_error(exc.status_code)
        except (sdk.APIResponseValidationError, json.JSONDecodeError):
            error = self._error("invalid_answer", "openai: the response is not a chat completion")
        except sdk.OpenAIError as exc:
            error = self._error("unavailable", f"openai: the call failed ({type(exc).__name__})")
        # Raised outside the handlers so the SDK's exception is neither its cause nor its context.
        raise error

    def _status_error(self, status: int) -> ProviderError:
        if status in (401, 403):
            return self._error(
                "http_error", f"openai: HTTP {status}: the endpoint refused the API key", status
            )
        if status == 429 or status >= 500:
            return self._error("unavailable", f"openai: HTTP {status}: the endpoint is unavailable", status)
        return self._error("http_error", f"openai: HTTP {status}: the endpoint refused the request", status)

    def _error(self, kind: ErrorKind, message: str, status: int | None = None) -> ProviderError:
        # Messages are fixed text; this guard keeps that true if one ever grows a server's words.
        key = self._client.api_key if self._client is not None else ""
        safe = message.replace(key, "[redacted]") if len(key) >= _MIN_SECRET_CHARS else message
        return ProviderError(kind, safe, status_code=status)


class ChatBody(TypedDict):
    model: str
    messages: list[ChatCompletionMessageParam]
    response_format: ResponseFormatJSONObject
    max_tokens: int


def chat_body(request: CompletionRequest) -> ChatBody:
    """The one body sent for `request`: budgets bound its cost from this, the call sends it."""
    return {
        "model": request.model,
        "messages": [
            {"role": "system", "content": system_prompt(request.skills)},
            {"role": "user", "content": request.prompt or request.message},
        ],
        "response_format": {"type": "json_object"},
        "max_tokens": request.max_tokens,
    }


def system_prompt(skills: Sequence[SkillOffer]) -> str:
    lines = [f"- {name}: {_one_line(description)}" for name, description in skills]
    return _SYSTEM.format(max_chars=MAX_TASK_CHARS, max_tasks=MAX_TASKS, skills="\n".join(lines) or "(none)")


def parse_answer(
    content: str, *, offered: Sequence[SkillOffer], message: str
) -> tuple[Interpretation, list[str]]:
    """The interpretation and the chosen skills in the model's answer, or `invalid_answer`."""
    try:
        answer = Answer.model_validate_json(_unfenced(content))
    except ValidationError as exc:
        error = ProviderError("invalid_answer", f"openai: invalid answer: {_describe(exc)}")
    else:
        return to_interpretation(answer, message=message), _chosen(answer.skills, offered)
    raise error  # outside the handler: the answer's text does not ride along as `__context__`


def to_interpretation(answer: Answer, *, message: str) -> Interpretation:
    """The same shape the local interpreter gives: unique tasks with slug ids, links, suggestions."""
    names: list[str] = []
    position: dict[str, int] = {}  # task_key -> index in names
    index_of: list[int] = []  # answer index -> index in names (duplicate tasks merge)
    for name in answer.tasks:
        index_of.append(position.setdefault(task_key(name), len(names)))
        if len(names) < len(position):
            names.append(name)
    return assemble(names, [(index_of[i], index_of[j]) for i, j in answer.links], text=message)


def build(env: Mapping[str, str], options: ProviderOptions) -> OpenAIProvider:
    key = env.get("OPENAI_API_KEY", "").strip() or None
    return OpenAIProvider(
        api_key=key, base_url=env.get("OPENAI_BASE_URL", "").strip() or None, options=options
    )


def _chosen(names: list[str], offered: Sequence[SkillOffer]) -> list[str]:
    # Unknown names are dropped: the model may only pick among the skills it was offered.
    by_key = {name.casefold(): name for name, _ in offered}
    return list(dict.fromkeys(by_key[n.casefold()] for n in names if n.casefold() in by_key))


def _content(response: ChatCompletion) -> str | None:
    # The SDK builds responses leniently: a field the server left out may be missing altogether.
    choices = getattr(response, "choices", None)
    message = getattr(choices[0], "message", None) if isinstance(choices, list) and choices else None
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else None


def _usage(response: ChatCompletion) -> tuple[int, int] | None:
    usage = getattr(response, "usage", None)
    prompt, completion = getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)
    if isinstance(prompt, int) and isinstance(completion, int) and min(prompt, completion) >= 0:
        return prompt, completion
    return None


def _unfenced(content: str) -> str:
    # Some compatible servers wrap JSON in a Markdown fence even in JSON mode.
    text = content.strip()
    if text.startswith("```") and text.endswith("```"):
        text = text[3:-3].removeprefix("json").strip()
    return text


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_DESCRIPTION_CHARS else line[: _MAX_DESCRIPTION_CHARS - 1] + "…"


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return "not a JSON object"
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    what = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {what}" if where else what
