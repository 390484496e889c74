"""A page of the web app that shares its address with the API (`/approvals`): a browser opening
or reloading it gets the app; API clients and the app's own calls get the API, as before."""

from __future__ import annotations

import httpx

from tests.conftest import TokenFactory

NAVIGATION = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}


async def test_a_browser_opening_the_inbox_gets_the_app(client: httpx.AsyncClient) -> None:
    for url in ("/approvals", "/approvals?status=rejected", "/approvals/apr_0123abcd"):
        page = await client.get(url, headers=NAVIGATION)
        assert page.status_code == 200, page.text
        assert "text/html" in page.headers["content-type"]
        assert page.headers["cache-control"] == "no-cache"


async def test_api_calls_to_the_same_address_reach_the_api(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    anonymous = await client.get("/approvals")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "MISSING_TOKEN"
    token = {"Authorization": f"Bearer {make_token()}"}
    # The app's own fetch, and a navigation that somehow carries a token: the API answers.
    for headers in ({**token, "Sec-Fetch-Dest": "empty"}, {**token, **NAVIGATION}):
        listed = await client.get("/approvals", headers=headers)
        assert listed.status_code == 200 and listed.json()["approvals"] == [], listed.text
    # Only GET, and only the shared pages: other methods and paths are the API's.
    posted = await client.post("/approvals", headers=NAVIGATION, json={})
    assert posted.status_code == 401
    one = await client.get("/approvals/apr_x", headers={**token, "Sec-Fetch-Dest": "empty"})
    assert one.status_code == 404 and one.json()["code"] == "APPROVAL_NOT_FOUND"
    other = await client.get("/approvals/apr_x/decision", headers=NAVIGATION)
    assert other.status_code in (404, 405) and other.headers["content-type"] == "application/json"
