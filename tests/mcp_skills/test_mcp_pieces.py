"""The pure pieces of MCP skills: the SKILL.md `mcp` key, the tool digest, the arguments a tool
is called with, the cost convention and the scrubbing of credentials from error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp_types import CallToolResult, TextContent

from talkative.mcp_skills.client import ToolInfo, outcome_of, reported_cost, scrub, tool_digest
from talkative.mcp_skills.execute import arguments_for
from talkative.mcp_skills.service import skill_name_for
from talkative.orchestrator import trust
from talkative.skills.manifest import InvalidSkill, is_mcp_command, parse_skill_md
from talkative.skills.pins import skill_digest

DIGEST = "a" * 64


def skill_md(**front: Any) -> str:
    return "---\n" + yaml.safe_dump(front) + "---\nbody\n"


def test_an_mcp_skill_has_a_derived_command_and_no_script() -> None:
    manifest = parse_skill_md(
        skill_md(
            name="orders-lookup",
            description="d",
            mcp={"server": "orders", "tool": "lookup", "digest": DIGEST},
        )
    )
    assert manifest.command == "mcp orders lookup" and is_mcp_command(manifest.command)
    assert manifest.script_path is None and manifest.mcp is not None and manifest.mcp.digest == DIGEST


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"command": "python skills/x/scripts/run.py"}, "command"),
        ({"heartbeat": True}, "mcp"),
        ({"network": ["example.com:443"]}, "mcp"),
        ({"mcp": {"server": "orders", "tool": "lookup", "digest": "short"}}, "mcp.digest"),
        ({"mcp": {"server": "Orders!", "tool": "lookup", "digest": DIGEST}}, "mcp.server"),
        ({"mcp": {"server": "orders", "tool": "look up", "digest": DIGEST}}, "mcp.tool"),
    ],
)
def test_an_mcp_skill_refuses_what_it_cannot_mean(extra: dict[str, Any], field: str) -> None:
    front: dict[str, Any] = {
        "name": "x",
        "description": "d",
        "mcp": {"server": "orders", "tool": "lookup", "digest": DIGEST},
        **extra,
    }
    with pytest.raises(InvalidSkill) as caught:
        parse_skill_md(skill_md(**front))
    assert field in [f for f, _ in caught.value.errors], caught.value.errors


def test_a_script_skill_still_needs_its_command() -> None:
    with pytest.raises(InvalidSkill) as caught:
        parse_skill_md(skill_md(name="x", description="d"))
    assert [f for f, _ in caught.value.errors] == ["command"]


def test_the_digest_covers_name_description_and_schema_and_not_key_order() -> None:
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    base = tool_digest("lookup", "Find it.", schema)
    assert base == tool_digest("lookup", "Find it.", dict(reversed(list(schema.items()))))
    assert (
        len({base, tool_digest("lookup", "Find it!", schema), tool_digest("find", "Find it.", schema)}) == 3
    )
    assert base != tool_digest("lookup", "Find it.", {**schema, "required": ["text"]})


def test_a_command_servers_digest_also_covers_its_skill_folder() -> None:
    schema = {"type": "object"}
    plain = tool_digest("lookup", "Find it.", schema)
    one, other = (
        tool_digest("lookup", "Find it.", schema, "a" * 64),
        tool_digest("lookup", "Find it.", schema, "b" * 64),
    )
    assert len({plain, one, other}) == 3
    assert ToolInfo("lookup", "Find it.", schema, "a" * 64).digest == one
    assert ToolInfo("lookup", "Find it.", schema).digest == plain  # an HTTP server's: as before


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"properties": {"q": {"type": "string"}, "n": {"type": "integer"}}, "required": ["n", "q"]},
            {"q": "T"},
        ),
        ({"properties": {"query": {"type": "string"}, "other": {"type": "string"}}}, {"query": "T"}),
        ({"properties": {"n": {"type": "integer"}}}, {}),
        ({"type": "object"}, {}),
        ({"properties": "nonsense"}, {}),
    ],
)
def test_a_tool_gets_the_task_as_its_string_argument(
    schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert arguments_for(schema, "T") == expected


@pytest.mark.parametrize(
    ("meta", "structured", "cost"),
    [
        ({"cost_usd": 0.5}, None, 0.5),
        (None, {"cost_usd": 2}, 2.0),
        ({"cost_usd": 0.1}, {"cost_usd": 9}, 0.1),  # _meta first
        ({"cost_usd": -1}, None, None),
        ({"cost_usd": True}, None, None),
        ({"cost_usd": "0.5"}, None, None),
        ({"cost_usd": float("inf")}, None, None),
        (None, None, None),
    ],
)
def test_the_cost_convention(meta: dict[str, Any] | None, structured: Any, cost: float | None) -> None:
    result = CallToolResult(content=[TextContent(text="ok")], structured_content=structured, _meta=meta)
    assert reported_cost(result) == cost


def test_an_outcome_keeps_text_and_the_error_flag() -> None:
    result = CallToolResult(content=[TextContent(text="a"), TextContent(text="b")], is_error=True)
    outcome = outcome_of(result)
    assert (outcome.ok, outcome.text) == (False, "a\nb")


def test_credentials_are_scrubbed_from_messages() -> None:
    assert scrub("401 for Bearer tok-123456", ["Bearer tok-123456"]) == "401 for ***"


def test_skill_names_are_slugs() -> None:
    assert skill_name_for("orders", "Look_Up.v2") == "orders-look-up-v2"


def test_an_mcp_step_passes_the_folder_check_only_with_its_pinned_digest(tmp_path: Path) -> None:
    assert (
        trust.refusal(tmp_path, skill="orders-lookup", command="mcp orders lookup", digest=None) is not None
    )
    folder = tmp_path / "skills" / "orders-lookup"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text("x")
    pinned = skill_digest(folder)
    assert trust.refusal(tmp_path, skill="orders-lookup", command="mcp orders lookup", digest=pinned) is None
    assert trust.refusal(tmp_path, skill="orders-lookup", command="rm -rf /", digest=pinned) is not None
