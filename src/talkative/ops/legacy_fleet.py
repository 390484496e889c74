"""Legacy import of the fleet's registry: tenants.json, clouds.json and nodes.json."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import utcnow
from talkative.fleet import local as fleet_local
from talkative.fleet.exceptions import UnsafeBasePath
from talkative.fleet.models import Cloud, Node, Tenant
from talkative.fleet.schemas import CloudCreate, FleetNodeCreate
from talkative.ops.legacy_agents import Job
from talkative.ops.legacy_read import DEFAULT_TENANT, Id, Name, Time, read_document
from talkative.workflows.graph import describe_validation

_Api = TypeVar("_Api", CloudCreate, FleetNodeCreate)


class _FleetRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id
    tenant_id: Id | None = None
    created_at: Time | None = None

    @property
    def tenant(self) -> str:
        return self.tenant_id or DEFAULT_TENANT


class LegacyTenant(_FleetRecord):
    name: Name


class LegacyNamed(_FleetRecord):
    """A cloud or a node: its other fields are checked exactly as the API checks them (see _as_api)."""

    model_config = ConfigDict(extra="allow")

    def fields(self, *names: str) -> dict[str, object]:
        return {name: (self.model_extra or {}).get(name) for name in names}


def _as_api(model: type[_Api], data: dict[str, object], where: str, kind: str, job: Job) -> _Api | None:
    """The record checked exactly as the API checks a new one; None after reporting it as malformed."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        job.report.malformed(kind, where, describe_validation(exc))
        return None


async def import_fleet(job: Job, session: AsyncSession) -> None:
    """`tenants.json`, `clouds.json`, `nodes.json` -> the fleet registry, by legacy id."""
    await _import_tenants(job, session)
    await _import_clouds(job, session)
    await _import_nodes(job, session)


async def _import_tenants(job: Job, session: AsyncSession) -> None:
    records = read_document(job.source / "tenants.json", "tenants", LegacyTenant, "tenants", job.report)
    counts = job.report.kind("tenants")
    stored = {(r.id, r.tenant_id) for r in (await session.execute(select(Tenant.id, Tenant.tenant_id))).all()}
    ids, registered = {i for i, _ in stored}, {t for _, t in stored}
    for _, rec in records or []:
        if rec.id in ids or rec.tenant in registered:
            counts.skipped += 1
            continue
        session.add(
            Tenant(id=rec.id, tenant_id=rec.tenant, name=rec.name, created_at=rec.created_at or utcnow())
        )
        ids.add(rec.id)
        registered.add(rec.tenant)
        counts.imported += 1
    await session.flush()


async def _import_named(
    job: Job,
    session: AsyncSession,
    kind: str,
    model: type[Cloud | Node],
    records: list[tuple[str, LegacyNamed]] | None,
    build: Callable[[str, LegacyNamed], Cloud | Node | None],
) -> None:
    """Adds each record whose legacy id is new; a name its tenant already uses is reported, not added."""
    counts = job.report.kind(kind)
    rows = (await session.execute(select(model.tenant_id, model.name, model.id))).all()
    names = {(r.tenant_id, r.name): r.id for r in rows}
    ids = set(names.values())
    for where, rec in records or []:
        if rec.id in ids:
            counts.skipped += 1
            continue
        row = build(where, rec)
        if row is None:
            continue
        other = names.get((row.tenant_id, row.name))
        if other is not None:
            job.report.malformed(kind, where, f"tenant {row.tenant_id} already has '{row.name}' ({other})")
            continue
        session.add(row)
        names[(row.tenant_id, row.name)] = row.id
        ids.add(row.id)
        counts.imported += 1
    await session.flush()


async def _import_clouds(job: Job, session: AsyncSession) -> None:
    def build(where: str, rec: LegacyNamed) -> Cloud | None:
        data = _as_api(CloudCreate, rec.fields("name", "provider", "region"), where, "clouds", job)
        if data is None:
            return None
        created = rec.created_at or utcnow()
        return Cloud(
            id=rec.id, tenant_id=rec.tenant, created_at=created, **data.model_dump(exclude={"tenant_id"})
        )

    records = read_document(job.source / "clouds.json", "clouds", LegacyNamed, "clouds", job.report)
    await _import_named(job, session, "clouds", Cloud, records, build)


# A cloud a node names but clouds.json lacks is created with what is known of it: its id.
MISSING_CLOUD_PROVIDER = "unknown"


async def _import_nodes(job: Job, session: AsyncSession) -> None:
    rows = (await session.execute(select(Cloud.id, Cloud.tenant_id, Cloud.name))).all()
    clouds = {r.id: r.tenant_id for r in rows}
    cloud_names = {(r.tenant_id, r.name) for r in rows}

    def create_cloud(where: str, cloud_id: str, tenant: str) -> None:
        """The node's cloud, missing from clouds.json: created rather than losing the node."""
        name = cloud_id if (tenant, cloud_id) not in cloud_names else f"{cloud_id} (imported)"
        session.add(Cloud(id=cloud_id, tenant_id=tenant, name=name, provider=MISSING_CLOUD_PROVIDER))
        clouds[cloud_id] = tenant
        cloud_names.add((tenant, name))
        job.report.changes.append(
            f"{where}: cloud '{cloud_id}' is missing from clouds.json: created for {tenant} "
            f"(name '{name}', provider '{MISSING_CLOUD_PROVIDER}')"
        )

    def build(where: str, rec: LegacyNamed) -> Node | None:
        raw = rec.fields("name", "mode", "cloud_id", "base_path")
        if raw["mode"] == "ssh":  # a local node's SSH fields meant nothing in the POC either: dropped
            raw |= rec.fields("ssh_host", "ssh_user", "ssh_port")
        data = _as_api(FleetNodeCreate, raw, where, "nodes", job)
        if data is None:
            return None
        if data.cloud_id is not None and data.cloud_id not in clouds:
            create_cloud(where, data.cloud_id, rec.tenant)
        if data.cloud_id is not None and clouds.get(data.cloud_id) != rec.tenant:
            job.report.malformed(  # another tenant's: cloud ids are global, it cannot be made ours
                "nodes", where, f"references cloud '{data.cloud_id}' of another tenant, not of {rec.tenant}"
            )
            return None
        if data.mode == "local" and not _inside_local_root(job, rec.tenant, data.base_path):
            job.report.problems.append(
                f"{where}: base_path {data.base_path} is outside the tenant's folder of "
                "TALKATIVE_FLEET_LOCAL_ROOT; the node uses the tenant's default local folder"
            )
            data.base_path = None
        created = rec.created_at or utcnow()
        fields = data.model_dump(exclude={"tenant_id"})
        return Node(
            id=rec.id, tenant_id=rec.tenant, status="new", created_at=created, updated_at=created, **fields
        )

    records = read_document(job.source / "nodes.json", "nodes", LegacyNamed, "nodes", job.report)
    await _import_named(job, session, "nodes", Node, records, build)


def _inside_local_root(job: Job, tenant_id: str, base_path: str | None) -> bool:
    try:
        fleet_local.base_folder(job.settings.fleet_root, tenant_id, base_path)
    except UnsafeBasePath:
        return False
    return True
