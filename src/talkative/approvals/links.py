"""Where an approval's page is: `<base>/approvals/<id>` (the web app's single-approval page)."""

from __future__ import annotations

from urllib.parse import quote


def approval_url(base_url: str, approval_id: str) -> str:
    return f"{base_url.rstrip('/')}/approvals/{quote(approval_id, safe='')}"


def signed_link(base_url: str, approval_id: str, token: str) -> str:
    """The page with a link token in the fragment: a browser never sends a fragment to the server,
    so the token stays out of server and proxy logs (the page takes it, then drops it)."""
    return f"{approval_url(base_url, approval_id)}#token={token}"
