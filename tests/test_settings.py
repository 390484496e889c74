"""Settings read from the environment: lists as "a,b" or JSON, and a clear refusal otherwise."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from talkative.settings import Settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1, intranet.example", ["127.0.0.1", "intranet.example"]),
        ('["10.0.0.5", "rates.internal"]', ["10.0.0.5", "rates.internal"]),
        ("", []),
    ],
)
def test_list_settings_take_commas_or_json(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("TALKATIVE_EGRESS_ALLOW_PRIVATE", raw)
    monkeypatch.setenv("TALKATIVE_APPROVAL_KEYWORDS", raw)

    settings = Settings(_env_file=None)

    assert settings.egress_allow_private == expected
    assert settings.approval_keywords == expected


def test_a_broken_json_list_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALKATIVE_EGRESS_ALLOW_PRIVATE", '["10.0.0.5"')

    with pytest.raises(ValidationError, match=r"egress_allow_private|TALKATIVE_EGRESS_ALLOW_PRIVATE"):
        Settings(_env_file=None)
