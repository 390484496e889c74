"""Monthly bookkeeping: income, expense and net per month and totals per category from a CSV.

Rules (format, rounding, signs) are documented in ../references/README.md. Each run also adds
its totals to a history journal, once per step even if the step is started twice.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from talkative.skills.report import (
    SkillArgumentParser,
    SkillError,
    SkillResult,
    append_record,
    once,
    resolve_in_workspace,
    run_skill,
)

SKILL = "monthly-bookkeeping"
COLUMNS = ("date", "description", "category", "amount")
CENT = Decimal("0.01")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class Row(NamedTuple):
    day: date
    category: str
    amount: Decimal


def money(value: Decimal) -> float:
    # A Decimal with at most two decimals converts to the float whose shortest repr has the
    # same digits, so the JSON shows exactly "1234.56".
    return float(value)


def parse_row(fields: list[str], index: dict[str, int], width: int) -> Row:
    """One CSV record as a Row, or ValueError with the reason it is unusable."""
    if len(fields) != width:
        raise ValueError(f"expected {width} fields, got {len(fields)}")
    raw_day = fields[index["date"]].strip()
    try:
        if not ISO_DAY.fullmatch(raw_day):
            raise ValueError
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise ValueError(f"date {raw_day!r} is not a YYYY-MM-DD day") from None
    raw_amount = fields[index["amount"]].strip()
    try:
        amount = Decimal(raw_amount)
        if not amount.is_finite():
            raise ValueError(f"amount {raw_amount!r} is not a finite number")
        # Round each amount to cents on the way in, so every total (and income - expense = net)
        # adds up exactly as printed.
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # not a number, or too large to hold in cents
        raise ValueError(f"amount {raw_amount!r} is not a number") from None
    category = " ".join(fields[index["category"]].lower().split()) or "uncategorized"
    return Row(day, category, amount)


def read_rows(path: str) -> tuple[list[Row], list[dict[str, Any]]]:
    full = resolve_in_workspace(path)
    rows: list[Row] = []
    skipped: list[dict[str, Any]] = []
    try:
        with open(full, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise SkillError(f"{path} is empty; expected the header {','.join(COLUMNS)}")
            names = [name.strip().lower() for name in header]
            missing = [column for column in COLUMNS if column not in names]
            if missing:
                raise SkillError(f"{path} header lacks column(s): {', '.join(missing)}")
            index = {column: names.index(column) for column in COLUMNS}
            for fields in reader:
                if not any(field.strip() for field in fields):
                    continue
                try:
                    rows.append(parse_row(fields, index, len(names)))
                except ValueError as exc:
                    skipped.append({"line": reader.line_num, "reason": str(exc)})
    except FileNotFoundError:
        raise SkillError(f"transactions file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise SkillError(f"{path} is not UTF-8 text: {exc}") from None
    except csv.Error as exc:
        raise SkillError(f"{path} is not valid CSV: {exc}") from None
    return rows, skipped


def summarise(rows: list[Row]) -> dict[str, Any]:
    zero = Decimal(0)
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    months: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        by_category[row.category] += row.amount
        month = months[row.day.strftime("%Y-%m")]
        if row.amount > zero:
            month["income"] += row.amount
        elif row.amount < zero:
            month["expense"] -= row.amount
        month["count"] += 1
    income = sum((m["income"] for m in months.values()), zero)
    expense = sum((m["expense"] for m in months.values()), zero)
    return {
        "income": money(income),
        "expense": money(expense),
        "net": money(income - expense),
        "byCategory": {name: money(total) for name, total in sorted(by_category.items())},
        "byMonth": {
            key: {
                "income": money(m["income"]),
                "expense": money(m["expense"]),
                "net": money(m["income"] - m["expense"]),
                "count": int(m["count"]),
            }
            for key, m in sorted(months.items())
        },
        "transactions": len(rows),
        "period": {
            "from": min(row.day for row in rows).isoformat() if rows else None,
            "to": max(row.day for row in rows).isoformat() if rows else None,
        },
    }


def main(argv: list[str]) -> SkillResult:
    parser = SkillArgumentParser(prog="bookkeeping.py", description=__doc__)
    parser.add_argument("--csv", default="inputs/transactions.csv")
    parser.add_argument("--history", default="outputs/monthly-bookkeeping.history.jsonl", help="'' for none")
    args = parser.parse_args(argv)
    rows, skipped = read_rows(args.csv)
    summary = summarise(rows)
    data = {**summary, "skippedRows": skipped}
    if args.history:
        # An append: a step started again (after a takeover) must not add its line twice.
        with once("history") as todo:
            if todo:
                closed = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                totals = {key: summary[key] for key in ("income", "expense", "net", "transactions", "period")}
                append_record(args.history, {"summarisedAt": closed, "csv": args.csv, **totals})
    return SkillResult(data, metrics={"transactions": len(rows), "skippedRows": len(skipped)})


if __name__ == "__main__":
    raise SystemExit(run_skill(SKILL, main))
