"""The template catalogue, and a brand-new skill folder working with no code change."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from talkative.skills.catalogue import (
    SkillNotFound,
    get_skill,
    get_template,
    list_skills,
    list_templates,
    scan_skills,
    templates_dir,
)
from talkative.skills.install import install_skill, read_heartbeat_commands
from tests.skills.helpers import RunScript, read_report, skill_md

TEMPLATES = ["git-watcher", "mail-triage", "monthly-bookkeeping"]


def test_templates_ship_inside_the_package() -> None:
    assert templates_dir() == Path(__file__).parents[2] / "src" / "talkative" / "skills" / "templates"
    assert [skill.name for skill in list_templates()] == TEMPLATES


@pytest.mark.parametrize(
    ("name", "heartbeat", "seed", "trigger"),
    [
        ("mail-triage", True, {"assets/inbox.json": "inputs/inbox.json"}, "triage"),
        ("git-watcher", False, {}, "git"),
        ("monthly-bookkeeping", False, {"assets/transactions.csv": "inputs/transactions.csv"}, "ledger"),
    ],
)
def test_template_manifests(name: str, heartbeat: bool, seed: dict[str, str], trigger: str) -> None:
    skill = get_template(name)
    assert skill.manifest.heartbeat is heartbeat
    assert skill.manifest.seed == seed
    assert trigger in skill.manifest.triggers
    assert skill.manifest.requires_approval is False
    assert f"--out outputs/{name}.json" in skill.manifest.command
    assert (skill.folder / "references" / "README.md").is_file()
    assert skill.body.startswith("# ")


@pytest.mark.parametrize("name", ["nope", "../mail-triage", "Mail-Triage", ""])
def test_unknown_or_unsafe_template_names(name: str) -> None:
    with pytest.raises(SkillNotFound):
        get_template(name)


def test_invalid_skill_is_reported_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "SKILL.md").write_text("no front matter", encoding="utf-8")
    (tmp_path / "not-a-skill").mkdir()  # no SKILL.md: ignored silently
    good = tmp_path / "good"
    (good / "scripts").mkdir(parents=True)
    (good / "scripts" / "run.py").write_text("", encoding="utf-8")
    (good / "SKILL.md").write_text(
        skill_md(name="good", description="ok", command="python skills/good/scripts/run.py"), "utf-8"
    )

    scan = scan_skills(tmp_path)
    assert [skill.name for skill in scan.skills] == ["good"]
    assert len(scan.invalid) == 1
    assert "broken" in str(scan.invalid[0])

    with caplog.at_level(logging.WARNING, logger="talkative.skills.catalogue"):
        assert [skill.name for skill in list_skills(tmp_path)] == ["good"]
    assert "missing YAML front matter" in caplog.text


def test_missing_root_lists_nothing(tmp_path: Path) -> None:
    assert list_skills(tmp_path / "absent") == []


NEW_SCRIPT = """\
from __future__ import annotations

from talkative.skills.report import SkillArgumentParser, SkillResult, run_skill


def main(argv: list[str]) -> SkillResult:
    parser = SkillArgumentParser()
    parser.add_argument("--words")
    args = parser.parse_args(argv)
    with open(args.words, encoding="utf-8") as handle:
        words = handle.read().split()
    return SkillResult({"words": len(words)}, metrics={"words": len(words)})


if __name__ == "__main__":
    raise SystemExit(run_skill("word-count", main))
"""


def test_new_skill_folder_works_without_code_changes(
    tmp_path: Path, workspace: Path, run_script: RunScript
) -> None:
    root = tmp_path / "my-skills"
    folder = root / "word-count"
    (folder / "scripts").mkdir(parents=True)
    (folder / "assets").mkdir()
    (folder / "scripts" / "count.py").write_text(NEW_SCRIPT, encoding="utf-8")
    (folder / "assets" / "words.txt").write_text("one two three four\n", encoding="utf-8")
    command = (
        "python skills/word-count/scripts/count.py --words inputs/words.txt --out outputs/word-count.json"
    )
    (folder / "SKILL.md").write_text(
        skill_md(
            name="word-count",
            description="Counts words.",
            triggers="[count words]",
            command=command,
            heartbeat="true",
            seed="{assets/words.txt: inputs/words.txt}",
        ),
        encoding="utf-8",
    )

    skill = get_skill(root, "word-count")
    assert [s.name for s in list_skills(root)] == ["word-count"]
    result = install_skill(workspace=workspace, skill=skill)
    assert result.seeded == ["inputs/words.txt"]
    assert read_heartbeat_commands(workspace) == [command]

    run = run_script(workspace, *skill.manifest.argv[1:])
    assert run.returncode == 0, run.stderr
    assert run.envelope["ok"] is True
    assert run.envelope["data"] == {"words": 4}
    assert read_report(workspace, "word-count")["data"] == {"words": 4}


def test_listing_notices_an_edited_skill_md(tmp_path: Path) -> None:
    """Parsed skills are cached, but an edit to SKILL.md is seen by the next listing."""
    from talkative.skills.catalogue import get_template, list_skills
    from talkative.skills.install import install_skill

    install_skill(workspace=tmp_path, skill=get_template("mail-triage"))
    first = list_skills(tmp_path / "skills")
    assert list_skills(tmp_path / "skills")[0] is first[0]  # served from the cache
    skill_md = tmp_path / "skills/mail-triage/SKILL.md"
    skill_md.write_text(skill_md.read_text().replace("triggers: [", "triggers: [sortbox, ", 1))
    assert "sortbox" in list_skills(tmp_path / "skills")[0].manifest.triggers
