"""Step specs are typed: written from a model, read back into one, refused when they do not fit."""

from __future__ import annotations

import pytest

from talkative.runs import specs
from talkative.runs.planner import plan
from talkative.runs.reducer import StepKind
from talkative.runs.specs import ApprovalSpec, DelegateSpec, TaskSpec, ToolSpec


@pytest.mark.parametrize(
    "spec",
    [
        ToolSpec(skill="mail-triage", command="python skills/mail-triage/scripts/triage.py", reason="triage"),
        ToolSpec(
            skill="fetch", command="python skills/fetch/run.py", skill_digest="sha256:ab", egress=("a.b",)
        ),
        ApprovalSpec(reason="sensitive", task="refund", guards=(1, 2)),
        TaskSpec(task="collect invoices"),
        DelegateSpec(target_agent_id="books", text="sum the month"),
        DelegateSpec(target_agent_id="books", text="sum the month", child_run_id="run_1"),
    ],
)
def test_a_spec_round_trips_through_its_stored_form(spec: specs.StepSpec) -> None:
    stored = spec.dump()
    assert all(isinstance(key, str) for key in stored)
    assert specs.parse(spec.kind, stored) == spec


def test_each_kind_has_its_own_spec() -> None:
    assert set(specs.SPEC_TYPES) == set(StepKind)
    assert {kind: spec.kind for kind, spec in specs.SPEC_TYPES.items()} == {k: k for k in StepKind}


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("tool", {"skill": "x"}),  # no command
        ("tool", {"skill": "x", "command": "y", "surprise": 1}),  # unknown key
        ("approval", {"task": "refund"}),  # no reason
        ("delegate", {"target_agent_id": "", "text": "t"}),  # empty target
        ("task", {"task": 3}),  # not text
        ("teleport", {}),  # no such kind
    ],
)
def test_a_spec_that_does_not_fit_its_kind_is_refused_by_name(kind: str, data: dict[str, object]) -> None:
    with pytest.raises(specs.InvalidSpec, match=kind):
        specs.parse(kind, data)


def test_the_planner_plans_typed_steps() -> None:
    class Skill:
        name = "refunder"
        description = "refunds"
        triggers = ("refund",)
        command = "python skills/refunder/run.py"
        requires_approval = True

    steps = plan(["refund the customer"], [Skill()], heartbeat_commands=(), sensitive_keywords=())
    assert [type(s.spec) for s in steps] == [ApprovalSpec, ToolSpec]
    gate, tool = steps[0].spec, steps[1].spec
    assert isinstance(gate, ApprovalSpec) and gate.guards == (1,)
    assert isinstance(tool, ToolSpec) and tool.skill == "refunder" and tool.reason == "refund the customer"
    assert [s.kind for s in steps] == [StepKind.APPROVAL, StepKind.TOOL]
