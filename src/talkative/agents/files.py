"""An agent's `inputs/` and `outputs/` over HTTP: listing, reading and uploading files.

Every path is opened one segment at a time below the workspace with O_NOFOLLOW, so a link a
skill run left there is never followed out of it (a run may write links into both folders).
Names are checked before anything is opened: no empty, `.` or `..` segment, no leading `/`, no
backslash or control character, bounded lengths. An upload is charged against the workspace's
quota as a run's writes are (tools/quota.py), and refused beforehand when it would not fit. Two
uploads at once may each find room for itself; the check before every run (quota.measure) still
stops a workspace that is over from growing further.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import stat
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from talkative.agents.exceptions import FileNotInWorkspace, InvalidFilePath, UploadOverQuota
from talkative.agents.models import Agent
from talkative.agents.schemas import WorkspaceFile, WorkspaceFiles, WorkspaceQuota
from talkative.errors import Conflict
from talkative.tools import quota
from talkative.tools.schemas import ToolLimits
from talkative.workspaces import resolve

Folder = Literal["inputs", "outputs"]
FOLDERS: tuple[Folder, ...] = ("inputs", "outputs")
MAX_SEGMENT_BYTES = 255  # what Linux file systems allow in one name
MAX_PATH_CHARS = 1024
MAX_LISTED = 1000  # per folder; the listing says when it stopped early
MAX_DEPTH = 32  # folders below this are not listed (one descriptor is open per level)
CHUNK = 64 * 1024
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO must not block


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str  # relative to its folder, `/`-separated
    size: int
    modified: datetime


@dataclass(frozen=True, slots=True)
class Listing:
    files: list[FileInfo]
    truncated: bool


@dataclass(frozen=True, slots=True)
class Usage:
    used_bytes: int
    used_files: int


def segments(path: str) -> list[str]:
    """The checked segments of a path inside a folder, or InvalidFilePath saying what is wrong."""
    if not path:
        raise InvalidFilePath("the file path is empty")
    if len(path) > MAX_PATH_CHARS:
        raise InvalidFilePath(f"the file path is longer than {MAX_PATH_CHARS} characters")
    if path.startswith("/"):
        raise InvalidFilePath("the file path must be relative to the folder, not absolute")
    if any(ord(c) < 32 or ord(c) == 127 for c in path) or "\\" in path:
        raise InvalidFilePath("the file path contains a control character or a backslash")
    parts = path.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise InvalidFilePath("the file path has an empty, '.' or '..' segment")
        if len(part.encode()) > MAX_SEGMENT_BYTES:
            raise InvalidFilePath(f"a name in the file path is longer than {MAX_SEGMENT_BYTES} bytes")
    return parts


def upload_name(name: str) -> str:
    """A new input's name: one segment, not hidden (hidden names are this module's own temp files)."""
    parts = segments(name)
    if len(parts) != 1:
        raise InvalidFilePath("an input is uploaded by its file name, not a path with folders")
    if name.startswith("."):
        raise InvalidFilePath("an input's name may not begin with '.'")
    return name


def _open_folder(workspace: Path, folder: Folder) -> int | None:
    """The folder's descriptor (None when it is missing); the folder itself may not be a link."""
    try:
        root = os.open(workspace, _DIR_FLAGS)
    except FileNotFoundError:
        return None
    try:
        return os.open(folder, _DIR_FLAGS, dir_fd=root)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # ELOOP: a link where the folder should be
        raise FileNotInWorkspace(folder) from exc
    finally:
        os.close(root)


def list_folder(workspace: Path, folder: Folder) -> Listing:
    """The regular files under the folder (links and special files left out), by path."""
    try:
        top = _open_folder(workspace, folder)
    except FileNotInWorkspace:  # a link in the folder's place: nothing to list through it
        top = None
    if top is None:
        return Listing([], truncated=False)
    found: list[FileInfo] = []
    try:
        for relative, name, info in _walk(top, ""):
            if len(found) >= MAX_LISTED:
                return Listing(sorted(found, key=lambda f: f.path), truncated=True)
            modified = datetime.fromtimestamp(info.st_mtime, tz=UTC)
            found.append(FileInfo(f"{relative}{name}", info.st_size, modified))
    finally:
        os.close(top)
    return Listing(sorted(found, key=lambda f: f.path), truncated=False)


def _walk(folder: int, prefix: str, depth: int = 0) -> Iterator[tuple[str, str, os.stat_result]]:
    with os.scandir(folder) as entries:
        items = list(entries)
    for item in items:
        try:
            info = os.stat(item.name, dir_fd=folder, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            yield prefix, item.name, info
        elif stat.S_ISDIR(info.st_mode) and depth < MAX_DEPTH:
            try:
                child = os.open(item.name, _DIR_FLAGS, dir_fd=folder)
            except OSError:
                continue
            try:
                yield from _walk(child, f"{prefix}{item.name}/", depth + 1)
            finally:
                os.close(child)


def open_file(workspace: Path, folder: Folder, path: str) -> tuple[int, int]:
    """(descriptor, size) of a regular file in the folder; the caller closes the descriptor."""
    parts = segments(path)
    current = _open_folder(workspace, folder)
    if current is None:
        raise FileNotInWorkspace(f"{folder}/{path}")
    try:
        for part in parts[:-1]:
            following = os.open(part, _DIR_FLAGS, dir_fd=current)
            os.close(current)
            current = following
        handle = os.open(parts[-1], _FILE_FLAGS, dir_fd=current)
    except OSError as exc:  # missing, a link (ELOOP), a file where a folder should be
        raise FileNotInWorkspace(f"{folder}/{path}") from exc
    finally:
        os.close(current)
    info = os.fstat(handle)
    if not stat.S_ISREG(info.st_mode):
        os.close(handle)
        raise FileNotInWorkspace(f"{folder}/{path}")
    return handle, info.st_size


async def read_chunks(handle: int) -> AsyncIterator[bytes]:
    """The file's bytes, chunk by chunk (each read off the loop); closes the descriptor at the end."""
    with os.fdopen(handle, "rb") as file:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk


def usage(workspace: Path, limits: ToolLimits) -> Usage:
    used_bytes, used_files = quota.usage(workspace, limits)
    return Usage(used_bytes, used_files)


def save_input(workspace: Path, name: str, content: bytes, limits: ToolLimits) -> FileInfo:
    """Writes (or replaces) `inputs/<name>` if the workspace's quota has room for it."""
    name = upload_name(name)
    if len(content) > limits.write_quota_bytes:
        raise UploadOverQuota(
            f"the file is {len(content)} bytes; one upload may add at most {limits.write_quota_bytes} "
            "bytes (the quota of one run's writes)"
        )
    folder = _open_folder(workspace, "inputs")
    if folder is None:
        _make_inputs(workspace)
        folder = _open_folder(workspace, "inputs")
        if folder is None:
            raise FileNotInWorkspace("inputs")
    try:
        _check_room(workspace, folder, name, len(content), limits)
        return _replace(folder, name, content)
    finally:
        os.close(folder)


def _make_inputs(workspace: Path) -> None:
    try:
        root = os.open(workspace, _DIR_FLAGS)
    except FileNotFoundError:
        raise FileNotInWorkspace("inputs") from None
    try:
        os.mkdir("inputs", 0o755, dir_fd=root)
    except FileExistsError:
        pass
    finally:
        os.close(root)


def _check_room(workspace: Path, folder: int, name: str, size: int, limits: ToolLimits) -> None:
    used = usage(workspace, limits)
    try:
        old = os.stat(name, dir_fd=folder, follow_symlinks=False)
        replaced_bytes, new_files = max(old.st_size, old.st_blocks * 512), 0
    except FileNotFoundError:
        replaced_bytes, new_files = 0, 1
    after_bytes = used.used_bytes - replaced_bytes + size
    after_files = used.used_files + new_files
    if after_bytes > limits.workspace_quota_bytes or after_files > limits.workspace_quota_files:
        raise UploadOverQuota(
            f"the workspace's quota is {limits.workspace_quota_bytes} bytes and "
            f"{limits.workspace_quota_files} files; it holds {used.used_bytes} bytes and "
            f"{used.used_files} files, and this {size}-byte file does not fit: remove files first"
        )


def _replace(folder: int, name: str, content: bytes) -> FileInfo:
    """Written to a temporary name, then renamed over the old file: a reader never sees half of it,
    and a link with the name is replaced, not written through."""
    temp = f".upload-{secrets.token_hex(8)}"
    handle = os.open(
        temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except IsADirectoryError:
        os.unlink(temp, dir_fd=folder)
        raise Conflict(f"inputs/{name} is a folder; choose another name", code="FILE_IS_FOLDER") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=folder)
        raise
    info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    return FileInfo(name, info.st_size, datetime.fromtimestamp(info.st_mtime, tz=UTC))


# ---- what the routes call -------------------------------------------------------------------


async def list_files(
    *, agent: Agent, workspaces_dir: Path, limits: ToolLimits, max_body_bytes: int
) -> WorkspaceFiles:
    """The folders' files and the quota; `max_body_bytes` (the request body limit, checked before
    any route) bounds an upload as well as the quota of one run's writes does."""
    workspace = resolve(workspaces_dir, agent.workspace)
    return await asyncio.to_thread(_list_files, workspace, limits, max_body_bytes)


def _list_files(workspace: Path, limits: ToolLimits, max_body_bytes: int) -> WorkspaceFiles:
    listed: list[WorkspaceFile] = []
    truncated = False
    for folder in FOLDERS:
        listing = list_folder(workspace, folder)
        truncated = truncated or listing.truncated
        listed += [
            WorkspaceFile(folder=folder, path=f.path, size=f.size, modifiedAt=f.modified)
            for f in listing.files
        ]
    used = usage(workspace, limits) if workspace.is_dir() else Usage(0, 0)
    room = WorkspaceQuota(
        usedBytes=used.used_bytes,
        usedFiles=used.used_files,
        quotaBytes=limits.workspace_quota_bytes,
        quotaFiles=limits.workspace_quota_files,
        maxUploadBytes=min(limits.write_quota_bytes, max_body_bytes),
    )
    return WorkspaceFiles(files=listed, truncated=truncated, quota=room)


async def open_download(*, agent: Agent, workspaces_dir: Path, folder: Folder, path: str) -> tuple[int, int]:
    workspace = resolve(workspaces_dir, agent.workspace)
    return await asyncio.to_thread(open_file, workspace, folder, path)


async def upload_input(
    *, agent: Agent, workspaces_dir: Path, name: str, content: bytes, limits: ToolLimits
) -> WorkspaceFile:
    workspace = resolve(workspaces_dir, agent.workspace)
    saved = await asyncio.to_thread(save_input, workspace, name, content, limits)
    return WorkspaceFile(folder="inputs", path=saved.path, size=saved.size, modifiedAt=saved.modified)
