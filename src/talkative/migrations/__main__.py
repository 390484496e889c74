"""`python -m talkative.migrations`: upgrade the database whose URL is read from stdin to the head.

Run by `talkative serve` as a child process so Alembic never loads into the server. The URL comes
on stdin, not argv, so a password in it never shows in the process list.
"""

from __future__ import annotations

import sys

from talkative.migrations import current_revision_sync, upgrade

if __name__ == "__main__":
    url = sys.stdin.read().strip()
    if not url:
        sys.exit("no database URL on stdin")
    upgrade(url)
    print(current_revision_sync(url))
