"""How a caller's token scopes what it names: its own tenant always, any tenant for a platform
admin, and a refusal (that says which tenant) when a body or query names another."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from talkative.auth.principal import DEFAULT_TENANT, Principal, Role
from talkative.errors import Forbidden

Auth = Callable[..., dict[str, str]]
TENANT_ADMIN = Principal(sub="ann", role=Role.ADMIN, tenant_id="tenant-a")
OPERATOR = Principal(sub="otto", role=Role.OPERATOR, tenant_id="tenant-a")
PLATFORM = Principal(sub="root", role=Role.ADMIN, tenant_id=None)


@pytest.mark.parametrize("principal", [TENANT_ADMIN, OPERATOR])
def test_a_tenants_token_is_scoped_to_its_tenant(principal: Principal) -> None:
    assert not principal.is_platform_admin
    assert principal.tenant_filter == "tenant-a"
    assert principal.scope_for(None) == "tenant-a"
    assert principal.scope_for("tenant-a") == "tenant-a"
    assert principal.owning_tenant(None) == "tenant-a"
    assert principal.owning_tenant("tenant-a") == "tenant-a"
    for name in (principal.scope_for, principal.owning_tenant):
        with pytest.raises(Forbidden) as refused:
            name("tenant-b")
        assert refused.value.code == "TENANT_MISMATCH"
        assert refused.value.message == "tenant_id 'tenant-b' does not match your token's tenant"


def test_a_platform_admin_names_any_tenant_or_none() -> None:
    assert PLATFORM.is_platform_admin and PLATFORM.tenant_filter is None
    assert PLATFORM.scope_for(None) is None  # every tenant
    assert PLATFORM.scope_for("tenant-b") == "tenant-b"
    assert PLATFORM.owning_tenant("tenant-b") == "tenant-b"
    assert PLATFORM.owning_tenant(None) == DEFAULT_TENANT


async def test_naming_another_tenant_is_refused_with_the_tenant_named(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    created = await client.post(
        "/agents", json={"name": "Sneaky", "tenant_id": "tenant-b"}, headers=auth("operator", "tenant-a")
    )
    listed = await client.get(
        "/agents/any", params={"tenant_id": "tenant-b"}, headers=auth("viewer", "tenant-a")
    )

    for response in (created, listed):
        assert response.status_code == 403
        assert response.json() == {
            "error": "tenant_id 'tenant-b' does not match your token's tenant",
            "code": "TENANT_MISMATCH",
        }
