"""The score of the last `make mutate`: mutants of the named functions, killed / total, and the
survivors by name (`.venv/bin/mutmut show NAME` prints one's diff).

Usage: python scripts/mutation_score.py PATTERN...  (the mutant-name globs `mutmut run` was given;
the files it mutated hold mutants of other functions too, never run, which are left out here).
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

DETECTED = {"killed", "timeout", "segfault", "caught by type check"}


def main(patterns: list[str]) -> int:
    results: dict[str, str] = {}
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
                results[name] = status_by_exit_code[code]
    if not results:
        print("no results: run `make mutate` first", file=sys.stderr)
        return 1
    counts = Counter(results.values())
    detected = sum(counts[status] for status in DETECTED)
    print(f"mutation score: {detected} / {len(results)} mutants killed ({detected / len(results):.1%})")
    print("  " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())))
    for status in sorted(set(results.values()) - DETECTED):
        print(f"{status}:")
        for name in sorted(n for n, s in results.items() if s == status):
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
