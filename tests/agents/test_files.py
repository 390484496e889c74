"""An agent's inputs/ and outputs/ over HTTP: listing, download, upload within the quota, on
SQLite and PostgreSQL; names that would leave the folder are refused, links are never followed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from talkative.workspaces import resolve

Auth = Callable[..., dict[str, str]]
SETTINGS = {
    "TALKATIVE_WORKSPACE_QUOTA_BYTES": 64 * 1024,
    "TALKATIVE_TOOL_WRITE_QUOTA_BYTES": 32 * 1024,
    "TALKATIVE_MAX_BODY_BYTES": 128 * 1024,
}
OCTETS = {"content-type": "application/octet-stream"}


async def _agent(
    client: httpx.AsyncClient, auth: Auth, agent_id: str = "filer", tenant: str = "tenant-a"
) -> None:
    response = await client.post(
        "/agents", json={"id": agent_id, "name": agent_id}, headers=auth(tenant=tenant)
    )
    assert response.status_code == 201, response.text


def _workspace(app: FastAPI, agent_id: str = "filer", tenant: str = "tenant-a") -> Path:
    return resolve(app.state.settings.workspaces_dir, f"workspaces/{tenant}/{agent_id}")


async def test_upload_list_download(client: httpx.AsyncClient, auth: Auth, app: FastAPI) -> None:
    await _agent(client, auth)
    put = await client.put(
        "/agents/filer/files/inputs/notes.txt", content=b"hello inputs\n", headers={**auth(), **OCTETS}
    )
    assert put.status_code == 201, put.text
    assert (put.json()["folder"], put.json()["path"], put.json()["size"]) == ("inputs", "notes.txt", 13)
    nested = _workspace(app) / "outputs" / "reports"
    nested.mkdir(parents=True)
    (nested / "week.md").write_text("# week\n")
    listing = await client.get("/agents/filer/files", headers=auth("viewer"))
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert [(f["folder"], f["path"], f["size"]) for f in body["files"]] == [
        ("inputs", "notes.txt", 13),
        ("outputs", "reports/week.md", 7),
    ]
    assert body["quota"]["quotaBytes"] == 64 * 1024 and body["quota"]["maxUploadBytes"] == 32 * 1024
    assert body["quota"]["usedBytes"] >= 20 and body["truncated"] is False
    got = await client.get("/agents/filer/files/outputs/reports/week.md", headers=auth("viewer"))
    assert got.status_code == 200 and got.content == b"# week\n"
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''week.md"
    again = await client.put(
        "/agents/filer/files/inputs/notes.txt", content=b"replaced", headers={**auth(), **OCTETS}
    )
    assert again.status_code == 201
    fetched = await client.get("/agents/filer/files/inputs/notes.txt", headers=auth())
    assert fetched.content == b"replaced"


async def test_viewer_reads_but_cannot_upload(client: httpx.AsyncClient, auth: Auth, app: FastAPI) -> None:
    await _agent(client, auth)
    refused = await client.put(
        "/agents/filer/files/inputs/x.txt", content=b"x", headers={**auth("viewer"), **OCTETS}
    )
    assert refused.status_code == 403
    assert not (_workspace(app) / "inputs" / "x.txt").exists()
    assert (await client.get("/agents/filer/files", headers=auth("viewer"))).status_code == 200


async def test_other_tenant_cannot_see_or_touch_files(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    await _agent(client, auth)
    (_workspace(app) / "inputs" / "secret.txt").write_text("tenant a only")
    other = auth("admin", "tenant-b")
    assert (await client.get("/agents/filer/files", headers=other)).status_code == 404
    read = await client.get("/agents/filer/files/inputs/secret.txt", headers=other)
    assert read.status_code == 404 and read.json()["code"] == "AGENT_NOT_FOUND"
    write = await client.put(
        "/agents/filer/files/inputs/secret.txt", content=b"mine", headers={**other, **OCTETS}
    )
    assert write.status_code == 404
    assert (_workspace(app) / "inputs" / "secret.txt").read_text() == "tenant a only"
    # tenant-b's own agent of the same id has its own, empty folders
    await _agent(client, auth, tenant="tenant-b")
    listing = await client.get("/agents/filer/files", headers=other)
    assert listing.json()["files"] == []


@pytest.mark.parametrize(
    "raw",
    [
        "..%2Fx",
        "..%2F..%2Fconfig.json",
        "%2Fetc%2Fpasswd",
        "a%2F..%2Fb",
        "sub%2F.",
        "%2E%2E",
        "sub%2F.%2Fx",
        "a%5Cb",
        "tab%09name",
        "x" * 300,
        "a%2F" * 600 + "b",
        ".hidden",
    ],
)
async def test_bad_upload_names_are_422(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI, raw: str
) -> None:
    await _agent(client, auth)
    response = await client.put(
        f"/agents/filer/files/inputs/{raw}", content=b"x", headers={**auth(), **OCTETS}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] in {"INVALID_FILE_PATH", "VALIDATION_ERROR"}
    assert sorted(p.name for p in (_workspace(app) / "inputs").iterdir()) == []
    assert sorted(p.name for p in _workspace(app).parent.iterdir()) == ["filer"]


@pytest.mark.parametrize(
    "raw", ["..%2Fconfig.json", "%2Fetc%2Fpasswd", "a%2F..%2F..%2Fconfig.json", "x" * 300]
)
async def test_bad_download_paths_are_refused(client: httpx.AsyncClient, auth: Auth, raw: str) -> None:
    await _agent(client, auth)
    response = await client.get(f"/agents/filer/files/inputs/{raw}", headers=auth())
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "INVALID_FILE_PATH"


async def test_nul_in_the_name_is_422(client: httpx.AsyncClient, auth: Auth) -> None:
    await _agent(client, auth)
    response = await client.put(
        "/agents/filer/files/inputs/a%00b", content=b"x", headers={**auth(), **OCTETS}
    )
    assert response.status_code == 422
    download = await client.get("/agents/filer/files/inputs/a%00b", headers=auth())
    assert download.status_code == 422


async def test_unknown_folder_and_missing_file(client: httpx.AsyncClient, auth: Auth) -> None:
    await _agent(client, auth)
    assert (await client.get("/agents/filer/files/skills/x", headers=auth())).status_code == 422
    missing = await client.get("/agents/filer/files/outputs/none.txt", headers=auth())
    assert missing.status_code == 404 and missing.json()["code"] == "FILE_NOT_FOUND"
    config = await client.get("/agents/filer/files/inputs/config.json", headers=auth())
    assert config.status_code == 404


async def test_links_are_not_followed(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI, tmp_path: Path
) -> None:
    await _agent(client, auth)
    outside = tmp_path / "outside.txt"
    outside.write_text("not the agent's")
    outputs = _workspace(app) / "outputs"
    (outputs / "leak.txt").symlink_to(outside)
    (outputs / "dir").symlink_to(tmp_path)
    (_workspace(app) / "inputs" / "over.txt").symlink_to(outside)
    listing = (await client.get("/agents/filer/files", headers=auth())).json()
    assert listing["files"] == []
    for path in ("outputs/leak.txt", "outputs/dir/outside.txt"):
        response = await client.get(f"/agents/filer/files/{path}", headers=auth())
        assert response.status_code == 404, path
        assert response.json()["code"] == "FILE_NOT_FOUND"
    written = await client.put(
        "/agents/filer/files/inputs/over.txt", content=b"new", headers={**auth(), **OCTETS}
    )
    assert written.status_code == 201
    assert outside.read_text() == "not the agent's"  # the link was replaced, not written through
    assert not (_workspace(app) / "inputs" / "over.txt").is_symlink()


async def test_uploads_over_the_quota_are_413(client: httpx.AsyncClient, auth: Auth, app: FastAPI) -> None:
    await _agent(client, auth)
    headers = {**auth(), **OCTETS}
    big = await client.put("/agents/filer/files/inputs/big.bin", content=b"x" * (33 * 1024), headers=headers)
    assert big.status_code == 413 and big.json()["code"] == "WORKSPACE_QUOTA"
    assert "32768 bytes" in big.json()["error"]
    quota = (await client.get("/agents/filer/files", headers=auth())).json()["quota"]
    free = quota["quotaBytes"] - quota["usedBytes"]
    size = (free // 2 - 4096) // 4096 * 4096  # two fit, a third does not (blocks are charged)
    assert size > 8192
    for index in range(2):
        ok = await client.put(
            f"/agents/filer/files/inputs/part{index}.bin", content=b"x" * size, headers=headers
        )
        assert ok.status_code == 201, ok.text
    full = await client.put("/agents/filer/files/inputs/part2.bin", content=b"x" * size, headers=headers)
    assert full.status_code == 413 and full.json()["code"] == "WORKSPACE_QUOTA"
    assert "remove files first" in full.json()["error"]
    assert not (_workspace(app) / "inputs" / "part2.bin").exists()
    # replacing a file is charged its growth only
    smaller = await client.put(
        "/agents/filer/files/inputs/part1.bin", content=b"y" * (size - 10), headers=headers
    )
    assert smaller.status_code == 201, smaller.text
    huge = await client.put(
        "/agents/filer/files/inputs/huge.bin", content=b"x" * (129 * 1024), headers=headers
    )
    assert huge.status_code == 413 and huge.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert sorted(p.name for p in (_workspace(app) / "inputs").iterdir()) == ["part0.bin", "part1.bin"]


async def test_upload_onto_a_folder_is_409(client: httpx.AsyncClient, auth: Auth, app: FastAPI) -> None:
    await _agent(client, auth)
    (_workspace(app) / "inputs" / "taken").mkdir()
    response = await client.put(
        "/agents/filer/files/inputs/taken", content=b"x", headers={**auth(), **OCTETS}
    )
    assert response.status_code == 409 and response.json()["code"] == "FILE_IS_FOLDER"
    assert [p.name for p in (_workspace(app) / "inputs").iterdir()] == ["taken"]


async def test_uploads_go_to_inputs_only(client: httpx.AsyncClient, auth: Auth, app: FastAPI) -> None:
    await _agent(client, auth)
    response = await client.put(
        "/agents/filer/files/outputs/x.txt", content=b"x", headers={**auth(), **OCTETS}
    )
    assert response.status_code == 422, response.text
    assert list((_workspace(app) / "outputs").iterdir()) == []


async def test_a_linked_folder_is_not_listed(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI, tmp_path: Path
) -> None:
    await _agent(client, auth)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "private.txt").write_text("not the agent's")
    outputs = _workspace(app) / "outputs"
    outputs.rmdir()
    outputs.symlink_to(outside, target_is_directory=True)
    (_workspace(app) / "inputs" / "kept.txt").write_text("kept")
    listing = await client.get("/agents/filer/files", headers=auth())
    assert listing.status_code == 200, listing.text
    assert [(f["folder"], f["path"]) for f in listing.json()["files"]] == [("inputs", "kept.txt")]
    read = await client.get("/agents/filer/files/outputs/private.txt", headers=auth())
    assert read.status_code == 404 and read.json()["code"] == "FILE_NOT_FOUND"


async def test_deep_folders_are_listed_to_a_bound(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    await _agent(client, auth)
    folder = _workspace(app) / "outputs"
    for level in range(200):  # deeper than the listing goes
        folder = folder / f"d{level % 10}"
        folder.mkdir()
        if level in (3, 150):
            (folder / "f.txt").write_text(str(level))
    listing = await client.get("/agents/filer/files", headers=auth())
    assert listing.status_code == 200, listing.text
    paths = [f["path"] for f in listing.json()["files"]]
    assert paths == ["d0/d1/d2/d3/f.txt"]
