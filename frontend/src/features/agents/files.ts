import type { Schemas } from "../../api/client";

export type WorkspaceFile = Schemas["WorkspaceFile"];
export type WorkspaceQuota = Schemas["WorkspaceQuota"];
export type Folder = WorkspaceFile["folder"];

/** The most a heartbeat interval may be (the API's bound): one week, in minutes. */
export const MAX_HEARTBEAT_MINUTES = 7 * 24 * 60;
const MAX_NAME_BYTES = 255;
const PREVIEW_BYTES = 64 * 1024;

/** The API path of a workspace file; each segment of a nested path is escaped on its own. */
export function fileUrl(agentId: string, folder: Folder, path: string): string {
  const segments = path.split("/").map(encodeURIComponent).join("/");
  return `/agents/${encodeURIComponent(agentId)}/files/${folder}/${segments}`;
}

/** Why the server would refuse this upload, in words, or null when it should fit. */
export function uploadProblem(name: string, size: number, quota: WorkspaceQuota | undefined): string | null {
  if (!name) return "Choose a file to upload.";
  if (name.startsWith(".")) return "A file name may not begin with “.”.";
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(name)) return "The file name has a character the workspace does not allow.";
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) return "The file name is too long.";
  if (!quota) return null;
  if (size > quota.maxUploadBytes) {
    return `The file is ${formatBytes(size)}; one upload may be at most ${formatBytes(quota.maxUploadBytes)}.`;
  }
  if (quota.usedBytes + size > quota.quotaBytes) {
    const free = Math.max(0, quota.quotaBytes - quota.usedBytes);
    return `The workspace has ${formatBytes(free)} free of its ${formatBytes(quota.quotaBytes)} quota; this file is ${formatBytes(size)}.`;
  }
  return null;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** The file as text to show (its first 64 KiB), or null when it is not UTF-8 text. */
export function previewText(bytes: Uint8Array): { text: string; truncated: boolean } | null {
  const truncated = bytes.length > PREVIEW_BYTES;
  let head = truncated ? bytes.subarray(0, PREVIEW_BYTES) : bytes;
  if (head.includes(0)) return null;
  if (truncated) {
    // Do not cut a multi-byte character in two: drop its leading bytes at the end.
    let end = head.length;
    while (end > 0 && end > head.length - 4 && (head[end - 1] & 0xc0) === 0x80) end -= 1;
    if (end > 0 && head[end - 1] >= 0xc0) end -= 1;
    head = head.subarray(0, end);
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(head), truncated };
  } catch {
    return null;
  }
}

/** A heartbeat interval typed by a person: whole minutes within the API's bounds, or why not. */
export function parseHeartbeat(text: string): { minutes: number } | { problem: string } {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { problem: "Enter whole minutes, e.g. 30." };
  const minutes = Number(trimmed);
  if (minutes < 1 || minutes > MAX_HEARTBEAT_MINUTES) {
    return { problem: `Between 1 and ${MAX_HEARTBEAT_MINUTES} minutes (one week).` };
  }
  return { minutes };
}
