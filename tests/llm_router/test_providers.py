"""The provider plugins: discovery, configuration from the environment, the local provider."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from talkative.conversation.interpreter import LocalInterpreter
from talkative.llm_router import providers as providers_package
from talkative.llm_router.providers.base import (
    CompletionRequest,
    Provider,
    ProviderError,
    ProviderOptions,
    build_providers,
    close_providers,
    plugin_factories,
)
from talkative.llm_router.providers.local import LocalProvider
from talkative.llm_router.providers.openai import OpenAIProvider
from talkative.tokens import estimate_tokens

KEY = "sk-test-registry-0123456789abcdef"


def _request(message: str = "Check the inbox and then pay supplier Bob") -> CompletionRequest:
    prompt = f"You are a helpful agent.\n\n[SKILLS]\n- mail-triage: sorts mail\n\n[USER MESSAGE]\n{message}"
    return CompletionRequest(
        model="", prompt=prompt, message=message, skills=[("mail-triage", "sorts mail")], max_tokens=64
    )


async def test_every_provider_module_is_found_and_built() -> None:
    assert set(plugin_factories()) == {"local", "openai"}
    providers = build_providers({})
    try:
        assert set(providers) == {"local", "openai"}
        assert all(isinstance(p, Provider) for p in providers.values())
        assert providers["local"].configured()
        assert not providers["openai"].configured()
    finally:
        await close_providers(providers)


async def test_openai_is_configured_by_the_given_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the process env is not read: only the mapping given
    assert not build_providers({})["openai"].configured()
    assert not build_providers({"OPENAI_API_KEY": "  "})["openai"].configured()
    providers = build_providers({"OPENAI_API_KEY": KEY}, timeout_s=5, max_retries=1)
    try:
        openai = providers["openai"]
        assert openai.configured()
        assert repr(openai) == "OpenAIProvider(host='api.openai.com', configured=True)"
        assert KEY not in repr(openai) and KEY not in str(vars(openai).get("_options"))
    finally:
        await close_providers(providers)


def test_a_bad_base_url_fails_fast_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="OPENAI_BASE_URL must be an http") as caught:
        build_providers({"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"ftp://user:{KEY}@host/v1"})
    assert KEY not in str(caught.value)


async def test_a_provider_is_one_new_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "echo.py").write_text(
        "from talkative.llm_router.providers.local import LocalProvider\n"
        "class Echo(LocalProvider):\n"
        "    name = 'echo'\n"
        "def build(env, options):\n"
        "    return Echo()\n"
    )
    monkeypatch.setattr(providers_package, "__path__", [*providers_package.__path__, str(tmp_path)])
    try:
        providers = build_providers({})
    finally:
        sys.modules.pop(f"{providers_package.__name__}.echo", None)
    assert set(providers) == {"echo", "local", "openai"}
    assert (await providers["echo"].complete(_request())).raw_model == "local"


def test_a_module_without_build_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.py").write_text("NAME = 'broken'\n")
    monkeypatch.setattr(providers_package, "__path__", [*providers_package.__path__, str(tmp_path)])
    try:
        with pytest.raises(TypeError, match="'broken' has no build"):
            build_providers({})
    finally:
        sys.modules.pop(f"{providers_package.__name__}.broken", None)


async def test_local_provider_interprets_the_message_offline() -> None:
    request = _request()
    completion = await LocalProvider().complete(request)
    expected = LocalInterpreter().interpret(request.message)
    assert completion.interpretation == expected
    assert [t.name for t in completion.interpretation.tasks] == ["Check the inbox", "Pay supplier Bob"]
    assert completion.selected_skills == []
    assert completion.prompt_tokens == estimate_tokens(request.prompt)
    assert completion.completion_tokens == estimate_tokens(expected.model_dump_json())
    assert completion.completion_tokens > 0
    assert completion.raw_model == "local"


async def test_local_provider_uses_the_interpreter_it_is_given() -> None:
    completion = await LocalProvider(LocalInterpreter(max_tasks=1)).complete(_request())
    assert [t.name for t in completion.interpretation.tasks] == ["Check the inbox"]


async def test_unconfigured_openai_refuses_without_sending() -> None:
    provider = OpenAIProvider(api_key=None, base_url=None, options=ProviderOptions())
    with pytest.raises(ProviderError) as caught:
        await provider.complete(_request())
    assert caught.value.kind == "not_configured"
    assert "OPENAI_API_KEY" in str(caught.value)
    await provider.aclose()


def test_the_openai_sdk_is_loaded_only_once_a_key_is_configured() -> None:
    # ~15 MB of memory for every server that never calls a remote model otherwise.
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from talkative.llm_router.providers.base import build_providers\n"
        "build_providers({})\n"
        "before = 'openai' in sys.modules\n"
        "build_providers({'OPENAI_API_KEY': 'sk-test-123456789'})\n"
        "print(before, 'openai' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"], out.stderr
