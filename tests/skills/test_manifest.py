"""SKILL.md parsing and validation."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from talkative.skills.manifest import InvalidSkill, load_skill, parse_skill_md
from tests.skills.helpers import skill_md

VALID = {
    "name": "demo-skill",
    "description": "Does a demo thing.",
    "command": "python skills/demo-skill/scripts/run.py --out outputs/demo-skill.json",
}


def md(**overrides: str | None) -> str:
    front = {**VALID, **overrides}
    return skill_md(**{key: value for key, value in front.items() if value is not None})


def test_minimal_manifest_has_safe_defaults() -> None:
    manifest = parse_skill_md(md())
    assert manifest.name == "demo-skill"
    assert manifest.triggers == ()
    assert manifest.requires_approval is False
    assert manifest.heartbeat is False
    assert manifest.seed == {}
    assert manifest.argv == ["python", "skills/demo-skill/scripts/run.py", "--out", "outputs/demo-skill.json"]
    assert manifest.script_path == PurePosixPath("scripts/run.py")


def test_full_manifest_normalises_triggers() -> None:
    manifest = parse_skill_md(
        md(
            triggers='["Triage", "  Month   End ", "triage"]',
            requires_approval="true",
            heartbeat="true",
            seed="{assets/in.json: inputs/in.json}",
            license="MIT",
            **{"allowed-tools": "Bash(git:*)"},
        )
    )
    assert manifest.triggers == ("triage", "month end")
    assert manifest.requires_approval is True
    assert manifest.heartbeat is True
    assert manifest.seed == {"assets/in.json": "inputs/in.json"}
    assert manifest.allowed_tools == "Bash(git:*)"


def test_network_destinations_are_normalised_and_deduplicated() -> None:
    manifest = parse_skill_md(
        md(network="['API.example.com:443', 'api.example.com.:443', '[2001:db8::1]:8443']")
    )
    assert manifest.network == ("api.example.com:443", "[2001:db8::1]:8443")
    assert parse_skill_md(md()).network == ()  # no declaration: no network at all


def test_front_matter_may_follow_a_byte_order_mark() -> None:
    assert parse_skill_md("\ufeff" + md()).name == "demo-skill"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("# just markdown\n", "missing YAML front matter"),
        ("---\nname: x\n", "not closed"),
        ("---\nname: [unclosed\n---\n", "not valid YAML"),
        ("---\n- a\n- b\n---\n", "must be a YAML mapping"),
        ("---\n---\n", "must be a YAML mapping"),
    ],
)
def test_front_matter_structure_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidSkill, match=fragment):
        parse_skill_md(text)


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"name": "Mail-Triage"}, "name", "is not a slug"),
        ({"name": "mail--triage"}, "name", "is not a slug"),
        ({"name": "-mail"}, "name", "is not a slug"),
        ({"name": "123"}, "name", "valid string"),
        ({"name": None}, "name", "is required"),
        ({"description": None}, "description", "is required"),
        ({"description": '"   "'}, "description", "must not be blank"),
        ({"command": None}, "command", "is required"),
        ({"command": "bash skills/demo-skill/scripts/run.sh"}, "command", "must be 'python"),
        ({"command": "python skills/other/scripts/run.py"}, "command", "under skills/demo-skill/"),
        ({"command": "python skills/demo-skill/../x/run.py"}, "command", "under skills/demo-skill/"),
        ({"command": "python skills/demo-skill/scripts/run.sh"}, "command", ".py file"),
        ({"command": "python skills/demo-skill/scripts/run.py | tee x"}, "command", "without a shell"),
        ({"command": "python 'skills/demo-skill/scripts/run.py"}, "command", "cannot be split"),
        ({"triggers": "triage"}, "triggers", "valid tuple"),
        ({"triggers": '["!!"]'}, "triggers", "no word characters"),
        ({"requires_approval": '"yes"'}, "requires_approval", "valid boolean"),
        ({"heartbeat": "1"}, "heartbeat", "valid boolean"),
        ({"seed": "{data/in.json: inputs/in.json}"}, "seed", "inside assets/"),
        ({"seed": "{assets/in.json: outputs/in.json}"}, "seed", "inside inputs/"),
        ({"seed": "{assets/in.json: inputs/../config.json}"}, "seed", "without '..'"),
        ({"seed": "{assets/in.json: /etc/passwd}"}, "seed", "without '..'"),
        ({"seed": "{assets/in.json: inputs}"}, "seed", "inside inputs/"),
        ({"seed": "{assets/a.json: inputs/x.json, assets/b.json: inputs/x.json}"}, "seed", "share"),
        ({"requires-approval": "true"}, "requires-approval", "unknown key"),
        ({"network": "[api.example.com]"}, "network", "host:port"),
        ({"network": "['api.example.com:99999']"}, "network", "port out of range"),
        ({"network": "['http://api.example.com:443']"}, "network", "not a host name"),
    ],
)
def test_invalid_fields_name_the_field_and_the_reason(
    overrides: dict[str, str | None], field: str, fragment: str
) -> None:
    with pytest.raises(InvalidSkill) as caught:
        parse_skill_md(md(**overrides))
    reasons = dict(caught.value.errors)
    assert field in reasons, caught.value.errors
    assert fragment in reasons[field]
    assert field in str(caught.value)


def write_skill(folder: Path, text: str, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(text, encoding="utf-8")
    for relative, content in (files or {"scripts/run.py": "print('hi')\n"}).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content, encoding="utf-8")
    return folder


def test_load_skill_reads_manifest_and_body(tmp_path: Path) -> None:
    skill = load_skill(write_skill(tmp_path / "demo-skill", md()))
    assert skill.name == "demo-skill"
    assert skill.folder == tmp_path / "demo-skill"
    assert skill.body == "# Instructions\n"


@pytest.mark.parametrize(
    ("folder", "text", "files", "fragment"),
    [
        ("other-name", md(), None, "must equal the folder name 'other-name'"),
        ("demo-skill", md(), {"scripts/main.py": ""}, "script scripts/run.py does not exist"),
        ("demo-skill", md(seed="{assets/in.json: inputs/in.json}"), None, "asset assets/in.json does not"),
    ],
)
def test_load_skill_checks_the_folder(
    tmp_path: Path, folder: str, text: str, files: dict[str, str] | None, fragment: str
) -> None:
    with pytest.raises(InvalidSkill, match=re.escape(fragment)):
        load_skill(write_skill(tmp_path / folder, text, files))


def test_load_skill_without_skill_md(tmp_path: Path) -> None:
    (tmp_path / "demo-skill").mkdir()
    with pytest.raises(InvalidSkill, match=r"no SKILL\.md"):
        load_skill(tmp_path / "demo-skill")


def test_load_skill_refuses_non_utf8(tmp_path: Path) -> None:
    folder = write_skill(tmp_path / "demo-skill", md())
    (folder / "SKILL.md").write_bytes(md().encode("utf-16"))
    with pytest.raises(InvalidSkill, match="not UTF-8"):
        load_skill(folder)
