"""The monthly-bookkeeping template, run for real on the seeded sample and on CSVs written here."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from talkative.skills.catalogue import get_template
from tests.skills.helpers import RunScript, ScriptRun, read_report

SCRIPT = "skills/monthly-bookkeeping/scripts/bookkeeping.py"


def run_on(
    install_template: Callable[[str], Path], run_script: RunScript, content: str | bytes | None
) -> tuple[Path, ScriptRun]:
    workspace = install_template("monthly-bookkeeping")
    target = workspace / "inputs" / "transactions.csv"
    if content is None:
        target.unlink()
    elif isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")
    return workspace, run_script(workspace, SCRIPT)


def dec(value: float) -> Decimal:
    """A JSON number from the report as the Decimal it denotes."""
    return Decimal(str(value))


def test_sample_matches_an_independent_computation(
    install_template: Callable[[str], Path], run_script: RunScript
) -> None:
    workspace = install_template("monthly-bookkeeping")
    run = run_script(workspace, *get_template("monthly-bookkeeping").manifest.argv[1:])

    assert run.returncode == 0, run.stderr
    assert run.envelope == read_report(workspace, "monthly-bookkeeping")
    data = run.envelope["data"]

    with (workspace / "inputs" / "transactions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    amounts = [Decimal(row["amount"]) for row in rows]
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for row, amount in zip(rows, amounts, strict=True):
        by_category[row["category"]] += amount
        by_month[row["date"][:7]] += amount
    income = sum(a for a in amounts if a > 0)
    expense = -sum(a for a in amounts if a < 0)

    assert 15 <= len(rows) <= 25
    assert (dec(data["income"]), dec(data["expense"]), dec(data["net"])) == (
        income,
        expense,
        income - expense,
    )
    assert {k: dec(v) for k, v in data["byCategory"].items()} == by_category
    assert {k: dec(v["net"]) for k, v in data["byMonth"].items()} == by_month
    assert list(data["byMonth"]) == ["2024-01", "2024-02", "2024-03"]
    assert data["transactions"] == len(rows)
    assert data["skippedRows"] == []
    # The same figures, pinned, so a change to the sample is a visible decision.
    assert (data["income"], data["expense"], data["net"]) == (16018.99, 6037.12, 9981.87)


SMALL = """\
date,description,category,amount
2024-01-05,Salary,Income,1000.00
2024-01-10,Rent,rent,-400.10
2024-01-11,Coffee, Food ,-0.10
2024-01-12,Snack,food,-0.20
2024-02-01,Refund,Food,5
2024-02-30,Bad day,food,-1
2024-02-03,Bad amount,food,abc
2024-02-04,Too,many,fields,1

2024-02-05,"Quoted, with comma",misc,-1.005
2024-02-06,Not a number,misc,NaN
"""


def test_small_csv_totals_and_skipped_rows(
    install_template: Callable[[str], Path], run_script: RunScript
) -> None:
    _, run = run_on(install_template, run_script, SMALL)

    assert run.returncode == 0, run.stderr
    data: dict[str, Any] = run.envelope["data"]
    # -1.005 is rounded half-up to -1.01 when read, so income - expense is exactly net.
    assert (data["income"], data["expense"], data["net"]) == (1005.0, 401.41, 603.59)
    assert data["byCategory"] == {"food": 4.7, "income": 1000.0, "misc": -1.01, "rent": -400.1}
    assert data["byMonth"] == {
        "2024-01": {"income": 1000.0, "expense": 400.4, "net": 599.6, "count": 4},
        "2024-02": {"income": 5.0, "expense": 1.01, "net": 3.99, "count": 2},
    }
    assert data["transactions"] == 6
    assert data["period"] == {"from": "2024-01-05", "to": "2024-02-05"}
    assert data["skippedRows"] == [
        {"line": 7, "reason": "date '2024-02-30' is not a YYYY-MM-DD day"},
        {"line": 8, "reason": "amount 'abc' is not a number"},
        {"line": 9, "reason": "expected 4 fields, got 5"},
        {"line": 12, "reason": "amount 'NaN' is not a finite number"},
    ]
    assert run.envelope["metrics"] == {"transactions": 6, "skippedRows": 4}


def test_spreadsheet_export_with_bom_and_reordered_columns(
    install_template: Callable[[str], Path], run_script: RunScript
) -> None:
    content = "\ufeffAmount,Date,Category,Description,Note\n-12.5,2024-03-02,,Parking,x\n".encode()
    _, run = run_on(install_template, run_script, content)
    data = run.envelope["data"]
    assert data["byCategory"] == {"uncategorized": -12.5}
    assert (data["income"], data["expense"], data["net"]) == (0.0, 12.5, -12.5)


def test_header_only_gives_empty_totals(
    install_template: Callable[[str], Path], run_script: RunScript
) -> None:
    _, run = run_on(install_template, run_script, "date,description,category,amount\n")
    assert run.envelope["ok"] is True
    assert run.envelope["data"]["transactions"] == 0
    assert run.envelope["data"]["period"] == {"from": None, "to": None}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "transactions file not found: inputs/transactions.csv"),
        ("", "inputs/transactions.csv is empty; expected the header date,description,category,amount"),
        ("date,description,amount\n", "inputs/transactions.csv header lacks column(s): category"),
        (b"date,description,category,amount\n\xff\xfe,x,y,1\n", "inputs/transactions.csv is not UTF-8 text"),
    ],
)
def test_unreadable_files_fail_clearly(
    install_template: Callable[[str], Path], run_script: RunScript, content: str | bytes | None, error: str
) -> None:
    workspace, run = run_on(install_template, run_script, content)
    assert run.returncode == 1
    assert run.envelope["ok"] is False
    assert run.envelope["error"].startswith(error)
    assert read_report(workspace, "monthly-bookkeeping") == run.envelope
