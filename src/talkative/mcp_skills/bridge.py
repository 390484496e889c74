"""The MCP stdio client that runs *inside* the skill sandbox (see local.py); standard library only.

    python .talkative/mcp/mcp_bridge.py <request file>

local.py copies this file into the agent's workspace and runs it like a skill's script, so it has
exactly a skill run's sandbox (no network, nothing of the host but the allow-list, the run's
limits). It starts the MCP server's command as its own child over stdio pipes (the child inherits
the same sandbox and no more), speaks newline-delimited JSON-RPC 2.0 to it (MCP's stdio
transport): `initialize`, `notifications/initialized`, then `tools/list` (every page) or one
`tools/call`, and prints ONE JSON line on stdout, the run's report:

    {"ok": true, "protocol_version": ..., "server": {...}, "tools": [...], "skipped": [...], "truncated": ...}
    {"ok": true, "protocol_version": ..., "server": {...}, "call": {"text", "structured", "is_error", ...}}
    {"ok": false, "error": {"code": ..., "message": ..., "rpc_code": int | None}}

Everything is bounded by the request: one message from the server (`max_message_bytes`), the
printed line (`max_result_bytes`), the number of tools and pages, and the whole exchange
(`deadline_s`, below the run's own time limit so the answer says which step never came back).
The server's stderr is the run's stderr (captured, capped). This file must not import `talkative`:
the sandbox binds only the skill helper of that package.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from typing import Any, NoReturn

PROTOCOL_VERSION = "2025-11-25"  # what we ask for; whatever the server answers is accepted
EXIT_GRACE_S = 0.5  # for the server to exit once its stdin is closed (it is killed after)
READ_CHUNK = 64 * 1024
MAX_DESCRIPTION_CHARS = 2000
MAX_NAME_CHARS = 128
MAX_SCHEMA_BYTES = 32 * 1024
METHOD_NOT_FOUND = -32601

# Starts the server's script the way the launcher starts a skill's: no `site`, no PYTHON*
# variables, the bridge's own import path (the sandbox's site-packages), the script's folder first.
RUNNER = (
    "import json, os, runpy, sys\n"
    "path, script = json.loads(sys.argv[1]), sys.argv[2]\n"
    "sys.argv = sys.argv[2:]\n"
    "sys.path[:] = [os.path.dirname(script), *path]\n"
    "runpy.run_path(script, run_name='__main__')\n"
)


class BridgeError(Exception):
    """Why the exchange failed: one of the codes local.py knows (LocalErrorCode)."""

    def __init__(self, code: str, message: str, rpc_code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rpc_code = rpc_code


class Channel:
    """Newline-delimited JSON-RPC over a child's stdin/stdout, every wait bounded by `deadline`."""

    def __init__(self, child: subprocess.Popen[bytes], deadline: float, max_message: int) -> None:
        assert child.stdin is not None and child.stdout is not None
        self.child = child
        self.deadline = deadline
        self.max_message = max_message
        self._in = child.stdout.fileno()
        self._out = child.stdin.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)
        self._buffer = bytearray()
        self._pending = bytearray()
        self._messages: list[Any] = []
        self._next_id = 0
        self._eof = False

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message, waiting_for=method)

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The result of `method`; raises BridgeError for an error answer, a dead or silent server."""
        self._next_id += 1
        ident = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message, waiting_for=method)
        while True:
            answer = self._receive(method)
            if isinstance(answer, dict) and "method" in answer:
                self._serve(answer)
                continue
            if not isinstance(answer, dict) or answer.get("id") != ident:
                continue  # a stray answer (or one to a request we gave up on): not ours
            if "error" in answer:
                _raise_rpc(method, answer["error"])
            result = answer.get("result")
            if not isinstance(result, dict):
                raise BridgeError("PROTOCOL_ERROR", f"the server's answer to {method} has no result object")
            return result

    def _serve(self, message: dict[str, Any]) -> None:
        """A request from the server (sampling, roots, elicitation...): only `ping` is answered."""
        if "id" not in message:
            return  # a notification (logging, progress): nothing to do
        if message.get("method") == "ping":
            self._send({"jsonrpc": "2.0", "id": message["id"], "result": {}}, waiting_for="ping")
            return
        error = {"code": METHOD_NOT_FOUND, "message": "not supported by this client"}
        self._send({"jsonrpc": "2.0", "id": message["id"], "error": error}, waiting_for="its request")

    def _send(self, message: dict[str, Any], *, waiting_for: str) -> None:
        self._pending += json.dumps(message, separators=(",", ":")).encode() + b"\n"
        while self._pending:
            self._pump(waiting_for, writing=True)

    def _receive(self, waiting_for: str) -> Any:
        while not self._messages:
            self._pump(waiting_for, writing=False)
        return self._messages.pop(0)

    def _pump(self, waiting_for: str, *, writing: bool) -> None:
        """One wait: writes what is pending, reads what the server said; raises at the deadline."""
        if self._eof:
            raise self._gone(waiting_for)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BridgeError("SERVER_TIMEOUT", f"the MCP server did not answer {waiting_for} in time")
        with selectors.DefaultSelector() as selector:
            selector.register(self._in, selectors.EVENT_READ)
            if writing and self._pending:
                selector.register(self._out, selectors.EVENT_WRITE)
            ready = selector.select(left)
        for key, _events in ready:
            if key.fd == self._out:
                try:
                    written = os.write(self._out, self._pending)
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    self._eof = True
                    raise self._gone(waiting_for) from None
                del self._pending[:written]
            else:
                self._read()

    def _read(self) -> None:
        try:
            chunk = os.read(self._in, READ_CHUNK)
        except BlockingIOError:
            return
        if not chunk:
            self._eof = True
            return
        self._buffer += chunk
        while (end := self._buffer.find(b"\n")) >= 0:
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            self._parse(line)
        if len(self._buffer) > self.max_message:
            raise BridgeError(
                "MESSAGE_TOO_LARGE", f"a message from the MCP server is larger than {self.max_message} bytes"
            )

    def _parse(self, line: bytes) -> None:
        if len(line) > self.max_message:
            raise BridgeError(
                "MESSAGE_TOO_LARGE", f"a message from the MCP server is larger than {self.max_message} bytes"
            )
        if not line.strip():
            return
        try:
            message = json.loads(line)
        except ValueError:
            return  # not a message (a server that logs to stdout): skipped
        except RecursionError:
            raise BridgeError(
                "PROTOCOL_ERROR", "a message from the MCP server is nested too deeply"
            ) from None
        # Batches (protocol 2025-03-26) are their messages in order.
        self._messages += message if isinstance(message, list) else [message]

    def _gone(self, waiting_for: str) -> BridgeError:
        try:
            status = self.child.wait(timeout=EXIT_GRACE_S)
        except subprocess.TimeoutExpired:
            return BridgeError(
                "SERVER_EXITED", f"the MCP server closed its output before answering {waiting_for}"
            )
        how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
        return BridgeError(
            "SERVER_EXITED", f"the MCP server {how} before answering {waiting_for} (see stderr)"
        )


def _raise_rpc(method: str, error: Any) -> NoReturn:
    code = error.get("code") if isinstance(error, dict) else None
    text = error.get("message") if isinstance(error, dict) else None
    message = f"the MCP server refused {method}: {str(text or 'no message')[:MAX_DESCRIPTION_CHARS]}"
    raise BridgeError("RPC_ERROR", message, code if isinstance(code, int) else None)


def _initialize(channel: Channel, request: dict[str, Any]) -> dict[str, Any]:
    params = {
        "protocolVersion": request.get("protocol_version") or PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "talkative", "version": str(request.get("client_version") or "0")},
    }
    result = channel.request("initialize", params)
    version = result.get("protocolVersion")
    if not isinstance(version, str):
        raise BridgeError("PROTOCOL_ERROR", "the MCP server's initialize answer names no protocol version")
    channel.notify("notifications/initialized")
    info = result.get("serverInfo")
    info = info if isinstance(info, dict) else {}
    server = {key: str(info[key])[:MAX_NAME_CHARS] for key in ("name", "version") if key in info}
    return {"protocol_version": version[:64], "server": server}


def _list(channel: Channel, request: dict[str, Any], budget: int) -> dict[str, Any]:
    max_tools, max_pages = int(request["max_tools"]), int(request["max_pages"])
    tools: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    truncated = False
    cursor: Any = None
    for _page in range(max_pages):
        result = channel.request("tools/list", {"cursor": cursor} if cursor is not None else None)
        found = result.get("tools")
        if not isinstance(found, list):
            raise BridgeError("PROTOCOL_ERROR", "the MCP server's tools/list answer has no list of tools")
        for tool in found:
            entry, why = _tool(tool)
            if entry is None:
                name = tool.get("name") if isinstance(tool, dict) else None
                skipped.append(
                    {"name": name[:MAX_NAME_CHARS] if isinstance(name, str) else "", "reason": why}
                )
            elif len(tools) >= max_tools:
                truncated = True
            else:
                tools.append(entry)
        cursor = result.get("nextCursor")
        if not isinstance(cursor, str) or not cursor or truncated:
            break
    else:
        truncated = True  # more pages than we read
    answer = {"tools": tools, "skipped": skipped[:max_tools], "truncated": truncated}
    while len(_line(answer)) > budget and (tools or skipped):
        (tools or skipped).pop()  # what does not fit the run's output is left out, and said so
        answer["truncated"] = True
    return answer


def _tool(tool: Any) -> tuple[dict[str, Any] | None, str]:
    if not isinstance(tool, dict) or not isinstance(tool.get("name"), str) or not tool["name"]:
        return None, "no name"
    if len(tool["name"]) > MAX_NAME_CHARS:
        return None, f"name longer than {MAX_NAME_CHARS} characters"
    schema = tool.get("inputSchema")
    if not isinstance(schema, dict):
        return None, "no input schema object"
    if len(_line(schema)) > MAX_SCHEMA_BYTES:
        return None, f"input schema larger than {MAX_SCHEMA_BYTES} bytes"
    description = tool.get("description")
    description = description[:MAX_DESCRIPTION_CHARS] if isinstance(description, str) else ""
    return {"name": tool["name"], "description": description, "input_schema": schema}, ""


def _call(channel: Channel, request: dict[str, Any], budget: int) -> dict[str, Any]:
    result = channel.request("tools/call", {"name": request["tool"], "arguments": request["arguments"]})
    content = result.get("content")
    parts = [_describe(item) for item in content] if isinstance(content, list) else []
    structured = result.get("structuredContent")
    call = {
        "text": "\n".join(part for part in parts if part),
        "structured": structured if isinstance(structured, dict) else None,
        "is_error": result.get("isError") is True,
        "cost_usd": _cost(result.get("_meta")),
        "text_truncated": False,
        "structured_dropped": False,
    }
    if call["structured"] is not None and len(_line(call)) > budget:
        call.update(structured=None, structured_dropped=True)  # JSON cannot be cut and stay JSON
    text = str(call["text"])
    if len(text) > budget:  # every character is at least a byte
        call.update(text=text[:budget], text_truncated=True)
        text = str(call["text"])
    while len(_line(call)) > budget and text:
        over = len(_line(call)) - budget
        text = text[: max(0, len(text) - max(over // 6, 1) - 16)]  # an escape is up to 6 bytes a character
        call.update(text=text, text_truncated=True)
    return {"call": call}


def _cost(meta: Any) -> Any:
    """`_meta.cost_usd` if it is a number (the host checks its range): the cost convention."""
    cost = meta.get("cost_usd") if isinstance(meta, dict) else None
    return cost if isinstance(cost, int | float) and not isinstance(cost, bool) else None


def _describe(item: Any) -> str:
    """A content block as text: text as it is, anything else by what it is."""
    if not isinstance(item, dict):
        return ""
    kind = item.get("type")
    if kind == "text":
        return str(item.get("text", ""))
    if kind == "resource" and isinstance(item.get("resource"), dict):
        resource = item["resource"]
        if isinstance(resource.get("text"), str):
            return str(resource["text"])
        return f"[resource {str(resource.get('uri', ''))[:500]}]"
    if kind == "resource_link":
        return f"[resource {str(item.get('uri', ''))[:500]}]"
    return f"[{str(kind)[:32]} {str(item.get('mimeType', ''))[:64]}]".replace(" ]", "]")


def _line(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _start(request: dict[str, Any]) -> subprocess.Popen[bytes]:
    server = request["server"]
    path = [entry for entry in sys.path[1:] if entry]  # not our own folder
    argv = [
        sys.executable,
        "-E",
        "-s",
        "-S",
        "-B",
        "-c",
        RUNNER,
        json.dumps(path),
        server["script"],
        *server["args"],
    ]
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            cwd=os.getcwd(),
            env=dict(os.environ),
        )
    except OSError as exc:
        raise BridgeError("SERVER_FAILED", f"the MCP server could not be started: {exc}") from exc


def _stop(child: subprocess.Popen[bytes], *, grace: bool) -> None:
    """MCP's stdio shutdown: close its input, give it a moment (`grace`), then kill it."""
    try:
        if child.stdin is not None:
            child.stdin.close()
    except OSError:
        pass
    try:
        child.wait(timeout=EXIT_GRACE_S if grace else 0.01)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    if child.stdout is not None:
        child.stdout.close()


def exchange(request: dict[str, Any], started: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    """The whole exchange for `request`: a dict to print, never raises for the server's faults.
    The server it started is appended to `started`, still running: stop it once the answer is out."""
    began = time.monotonic()
    budget = max(0, int(request["max_result_bytes"]) - 512)  # room for the envelope around the answer
    try:
        child = _start(request)
        started.append(child)
        channel = Channel(child, began + float(request["deadline_s"]), int(request["max_message_bytes"]))
        answer: dict[str, Any] = {"ok": True, **_initialize(channel, request)}
        if request["action"] == "list":
            answer.update(_list(channel, request, budget))
        else:
            answer.update(_call(channel, request, budget))
        return answer
    except BridgeError as exc:
        return {"ok": False, "error": {"code": exc.code, "message": exc.message, "rpc_code": exc.rpc_code}}
    except Exception as exc:  # a bug here, or an answer shaped like nothing above: still one answer
        return {
            "ok": False,
            "error": {"code": "BRIDGE_FAILED", "message": f"{type(exc).__name__}: {exc}"[:500]},
        }


def main(argv: list[str]) -> int:
    started: list[subprocess.Popen[bytes]] = []
    try:
        with open(argv[1], encoding="utf-8") as handle:
            request = json.load(handle)
    except (IndexError, OSError, ValueError) as exc:
        answer: dict[str, Any] = {
            "ok": False,
            "error": {"code": "BRIDGE_FAILED", "message": f"no request: {exc}"},
        }
    else:
        answer = exchange(request, started)
    # The answer first: a server slow to exit must not cost it (the run's time limit may be near).
    sys.stdout.write(json.dumps(answer, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    for child in started:
        _stop(child, grace=answer["ok"] is True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
