"""The command API's logic: start_task, pause, resume, cancel, request_delegate."""

from __future__ import annotations

from talkative.agents import service as agents
from talkative.auth.principal import Principal
from talkative.errors import Conflict, InvalidInput
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.orchestrator import control, flows
from talkative.orchestrator.schemas import CommandAccepted, CommandIn
from talkative.runs import service as runs
from talkative.runs.planner import PlannedStep
from talkative.runs.reducer import RunKind, RunStatus, is_terminal
from talkative.runs.specs import DelegateSpec
from talkative.runtime import Runtime


def _text(payload: dict[str, object], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"payload.{key} must be a non-empty string", code="VALIDATION_ERROR")
    if len(value) > 8000:
        raise InvalidInput(f"payload.{key} is longer than 8000 characters", code="VALIDATION_ERROR")
    return value.strip()


async def submit(runtime: Runtime, *, principal: Principal, command: CommandIn) -> CommandAccepted:
    scope = principal.scope_for(command.tenant_id)
    async with runtime.sessionmaker() as session:
        agent = await agents.get_agent(session=session, tenant_id=scope, agent_id=command.agent_id)
        tenant = agent.tenant_id
        if command.run_id is not None:
            run = await runs.get(session, command.run_id, tenant_id=tenant)
            if run.agent_id != agent.id:
                raise InvalidInput(f"run '{run.id}' belongs to agent '{run.agent_id}', not '{agent.id}'")
    if command.type in control.CONTROL_ACTIONS:
        if command.run_id is None:
            raise InvalidInput(f"a {command.type} command needs run_id", code="VALIDATION_ERROR")
        run = await control.control(
            runtime, run_id=command.run_id, tenant_scope=tenant, action=command.type, actor=principal.sub
        )
        return CommandAccepted(command_id=None, type=command.type, run_id=run.id, status=run.status)
    if command.type == "start_task":
        text = _text(command.payload, "text")
        record = runs.CommandRecord(type=command.type, payload=command.payload, actor=principal.sub)
        started = await flows.start_run(
            runtime,
            tenant_scope=tenant,
            agent_id=agent.id,
            text=text,
            kind=RunKind.TASK,
            command=record,
            requested_by=principal.sub,
        )
        async with runtime.sessionmaker() as session:
            status = (await runs.get(session, started.run_id)).status
        return CommandAccepted(
            command_id=started.command_id, type=command.type, run_id=started.run_id, status=status
        )
    return await _delegate(runtime, principal=principal, command=command, tenant=tenant)


async def _log(
    runtime: Runtime, principal: Principal, command: CommandIn, tenant: str, run_id: str, parent: str | None
) -> CommandAccepted:
    async with runtime.sessionmaker() as session, session.begin():
        record = await runs.record_command(
            session,
            tenant_id=tenant,
            agent_id=command.agent_id,
            run_id=parent or run_id,
            type_=command.type,
            payload=command.payload,
            actor=principal.sub,
        )
        status = (await runs.get(session, run_id)).status
    return CommandAccepted(
        command_id=record.id, type=command.type, run_id=run_id, parent_run_id=parent, status=status
    )


async def _delegate(
    runtime: Runtime, *, principal: Principal, command: CommandIn, tenant: str
) -> CommandAccepted:
    target = _text(command.payload, "target_agent_id")
    text = _text(command.payload, "text")
    if target == command.agent_id:
        raise InvalidInput("an agent cannot delegate to itself", code="VALIDATION_ERROR")
    async with runtime.sessionmaker() as session, session.begin():
        await agents.get_agent(session=session, tenant_id=tenant, agent_id=target)  # same tenant or 404
        if command.run_id is not None:
            parent = await runs.get(session, command.run_id, tenant_id=tenant, for_update=True)
            if is_terminal(RunStatus(parent.status)):
                raise Conflict(
                    f"run '{parent.id}' is {parent.status}; delegate from a live run", code="RUN_FINISHED"
                )
        else:
            parent = await runs.open_run(
                session,
                tenant_id=tenant,
                agent_id=command.agent_id,
                kind=RunKind.DELEGATE,
                text=text,
                requested_by=principal.sub,
            )
            runs.start(parent)
            parent.result = {"summary": f"Delegating to {target}."}
            await events.append(
                session,
                [
                    NewEvent(
                        type=EventType.MESSAGE_RECEIVED,
                        tenant_id=tenant,
                        agent_id=command.agent_id,
                        run_id=parent.id,
                        message=text[:200],
                        payload={"message": text, "kind": "delegate", "target_agent_id": target},
                    )
                ],
            )
        delegate = PlannedStep(f"Delegate to {target}", DelegateSpec(target_agent_id=target, text=text))
        await runs.add_steps(session, parent, [delegate])
        parent_id = parent.id
    runtime.worker.wake()
    accepted = await _log(runtime, principal, command, tenant, parent_id, None)
    accepted.parent_run_id = parent_id
    return accepted
