"""Factories: what tests build through the API, one module per domain (agents, runs, skills).

Each factory asserts that what it built was built, so a test using one may take it as given.
They take the request's headers (`auth()`, `auth("viewer", "tenant-b")`), not the `auth` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Auth = Callable[..., dict[str, str]]  # the `auth` fixture: headers for a role, tenant and subject
Headers = dict[str, str]
Json = dict[str, Any]
