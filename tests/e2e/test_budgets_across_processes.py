"""Two real server processes on one database share a tenant's cap: together they never pass it.

Each process has its own connection pool (and, on SQLite, its own in-process writer queue), so
only the database can keep their budget checks and holds in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET, TokenFactory
from tests.e2e.server import ServerProcess
from tests.factories.agents import running_agent
from tests.llm_router.fake_openai import (  # the fixtures are used by name
    FakeOpenAI,
    Reply,
    answer_json,
    byte_tokenizer_usage,
    fake_openai,
    fake_openai_factory,
)

__all__ = ["fake_openai", "fake_openai_factory"]

MODEL = "openai/gpt-test"
PER_MTOK = 1000.0
MAX_TOKENS = 20
CALLS = 24


@pytest.fixture
def servers(empty_database: str, fake_openai: FakeOpenAI, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    env = {
        "AUTH_JWT_SECRET": TEST_SECRET,
        "TALKATIVE_DATABASE_URL": empty_database,
        "OPENAI_API_KEY": "sk-test-e2e-0123456789abcdef",
        "OPENAI_BASE_URL": fake_openai.base_url,
        # A cluster's processes, each with its own data dir, keep the agents' files in one place.
        "TALKATIVE_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    started: list[ServerProcess] = []
    try:
        for n in range(2):
            (tmp_path / f"server{n}").mkdir()
            started.append(ServerProcess(data_dir=tmp_path / f"server{n}" / "data", env=env).start())
        yield started
    finally:
        for server in started:
            server.stop()


def _bill(body: Any) -> float:
    usage = byte_tokenizer_usage(body)
    return (usage["prompt_tokens"] + usage["completion_tokens"]) * PER_MTOK / 1_000_000


async def test_two_servers_never_pass_a_shared_cap(
    servers: list[ServerProcess], fake_openai: FakeOpenAI, make_token: TokenFactory
) -> None:
    operator = {"Authorization": f"Bearer {make_token('operator', 'tenant-a')}"}
    platform = {"Authorization": f"Bearer {make_token('admin', None)}"}
    fake_openai.reply = Reply(content=answer_json(["Spend"]), usage_of=byte_tokenizer_usage, delay_s=0.05)
    one, two = (httpx.AsyncClient(base_url=s.url, timeout=60) for s in servers)
    async with one, two:
        await running_agent(one, operator, "spender", name="spender")
        rules = {
            "default_model": "local",
            "routes": [{"match": ".", "model": MODEL, "max_tokens": MAX_TOKENS}],
            "prices": {MODEL: {"input_per_mtok": PER_MTOK, "output_per_mtok": PER_MTOK}},
        }
        assert (await one.put("/router/admin/rules", json=rules, headers=platform)).status_code == 200
        first = await two.post("/agents/spender/message", json={"message": "job 00"}, headers=operator)
        assert first.status_code == 200, first.text
        cap = round(_bill(fake_openai.last.body) * 6, 6)
        budgets = {"tenants": {"tenant-a": {"daily_cost_cap_usd": cap}}}
        assert (await two.put("/router/admin/budgets", json=budgets, headers=platform)).status_code == 200

        async def send(i: int) -> int:
            client = one if i % 2 else two
            response = await client.post(
                "/agents/spender/message", json={"message": f"job {i:02d}"}, headers=operator
            )
            return response.status_code

        statuses = await asyncio.gather(*(send(i) for i in range(1, CALLS + 1)))
        usage = (await one.get("/router/admin/usage", params={"limit": 1000}, headers=platform)).json()[
            "usage"
        ]
    assert set(statuses) == {200, 402}, statuses
    billed = sum(_bill(r.body) for r in fake_openai.requests)
    ledger = sum(r["cost"] for r in usage if r["model"] == MODEL)
    assert fake_openai.count == 1 + statuses.count(200)
    assert billed <= cap + 1e-9, f"{fake_openai.count} calls billed ${billed:.4f} against a cap of ${cap:.4f}"
    assert ledger <= cap + 1e-9 and ledger == pytest.approx(billed)
    assert not [r for r in usage if r["status"] == "reserved"], "a hold was left in flight"
