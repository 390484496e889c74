"""The bridge's MCP stdio client run in this process, without the sandbox: its exchange with an
SDK server and a hand-written one, as a protocol check apart from confinement (test_local_transport.py
runs the same bridge inside the sandbox, where coverage cannot follow it)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from talkative.mcp_skills import bridge
from tests.mcp_skills.test_local_transport import RAW_SERVER, SDK_SERVER


def _request(script: Path, action: str, *args: str, **extra: Any) -> dict[str, Any]:
    return {
        "action": action,
        "server": {"script": str(script), "args": list(args)},
        "deadline_s": 20.0,
        "max_message_bytes": 4 * 1024 * 1024,
        "max_result_bytes": 256 * 1024,
        "max_tools": 128,
        "max_pages": 16,
        "client_version": "test",
        **extra,
    }


def _run(tmp_path: Path, request: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request))
    assert bridge.main(["mcp_bridge.py", str(request_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines  # one answer line, whatever happened
    answer: dict[str, Any] = json.loads(lines[0])
    return answer


@pytest.fixture
def sdk_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs").mkdir()
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(SDK_SERVER))
    return script


@pytest.fixture
def raw_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs").mkdir(exist_ok=True)
    script = tmp_path / "raw.py"
    script.write_text(textwrap.dedent(RAW_SERVER))
    return script


def test_lists_an_sdk_servers_tools(
    sdk_server: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = _run(tmp_path, _request(sdk_server, "list"), capsys)
    assert answer["ok"] is True, answer
    tools = {tool["name"]: tool for tool in answer["tools"]}
    assert {"add", "refuse", "read", "big"} <= set(tools)
    assert tools["add"]["description"] == "Adds two numbers."
    assert set(tools["add"]["input_schema"]["properties"]) == {"a", "b"}
    assert answer["protocol_version"]
    assert answer["truncated"] is False


def test_a_tool_list_cut_at_max_tools_says_so(
    sdk_server: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = _run(tmp_path, _request(sdk_server, "list", max_tools=2), capsys)
    assert answer["ok"] is True, answer
    assert len(answer["tools"]) == 2
    assert answer["truncated"] is True


def test_calls_a_tool_and_returns_structured_content(
    sdk_server: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(sdk_server, "call", tool="add", arguments={"a": 2, "b": 3})
    answer = _run(tmp_path, request, capsys)
    assert answer["ok"] is True, answer
    assert answer["call"]["is_error"] is False
    assert answer["call"]["structured"] == {"total": 5}


def test_a_tools_own_error_is_an_error_result_not_a_failure(
    sdk_server: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(sdk_server, "call", tool="refuse", arguments={"reason": "closed"})
    answer = _run(tmp_path, request, capsys)
    assert answer["ok"] is True, answer
    assert answer["call"]["is_error"] is True
    assert "refused: closed" in answer["call"]["text"]


def test_a_server_that_crashes_is_a_clear_error(
    raw_server: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = _run(tmp_path, _request(raw_server, "list", "crash"), capsys)
    assert answer["ok"] is False
    assert answer["error"]["code"] == "SERVER_EXITED"


def test_a_missing_request_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bridge.main(["mcp_bridge.py", str(tmp_path / "absent.json")]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["ok"] is False
    assert answer["error"]["code"] == "BRIDGE_FAILED"
