"""A stored step whose spec does not fit its kind fails its run with a reason; it never runs."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from talkative.orchestrator import flows
from talkative.runs.models import Run, RunStep
from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import wait_run

SETTINGS = {"TALKATIVE_MESSAGE_WAIT_S": 0}


async def test_a_tool_step_with_a_spec_edited_behind_the_api_fails_the_run(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = (
        await client.post("/agents/mailer/message", json={"message": "triage inbox now"}, headers=auth())
    ).json()
    run_id = reply["run_id"]
    await wait_run(client, auth(), run_id, lambda r: r["status"] == "completed")
    async with app.state.sessionmaker() as session, session.begin():
        # The run as it was before its step ran, with a spec another version (or a hand) wrote.
        await session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(
                status="running", subagent_state="running", finished_at=None, reply=None, lease_owner=None
            )
        )
        await session.execute(
            update(RunStep)
            .where(RunStep.run_id == run_id, RunStep.idx == 0)
            .values(status="pending", attempts=0, spec={"command": "rm -rf /", "skill": 7})
        )
    app.state.runtime.worker.wake()

    run = await wait_run(client, auth(), run_id, lambda r: r["status"] == "failed")
    assert "invalid spec" in (run["last_error"] or ""), run["last_error"]
    events = (await client.get("/agents/mailer/events", params={"tail": 100}, headers=auth())).json()[
        "events"
    ]
    started = [e for e in events if e["run_id"] == run_id and e["type"] == "TOOL_RUN_STARTED"]
    assert len(started) == 1  # the first, legitimate run only: the edited step never started
    # Its reply is still made (the step it cannot type is left out of the actions), not a 500.
    reply_now = await flows.wait_for_reply(app.state.runtime, run_id, 0)
    assert reply_now.run_status == "failed" and reply_now.actions == []
