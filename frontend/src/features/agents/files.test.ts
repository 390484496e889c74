import { describe, expect, it } from "vitest";
import { fileUrl, formatBytes, parseHeartbeat, previewText, uploadProblem, type WorkspaceQuota } from "./files";

const quota: WorkspaceQuota = {
  usedBytes: 1000,
  usedFiles: 5,
  quotaBytes: 10_000,
  quotaFiles: 100,
  maxUploadBytes: 4000,
};

describe("fileUrl", () => {
  it("escapes each segment but keeps the folders", () => {
    expect(fileUrl("bot", "outputs", "reports/week 1.md")).toBe("/agents/bot/files/outputs/reports/week%201.md");
  });
  it("escapes what would change the path", () => {
    expect(fileUrl("a/b", "inputs", "x?y#z")).toBe("/agents/a%2Fb/files/inputs/x%3Fy%23z");
  });
});

describe("uploadProblem", () => {
  it("accepts a file that fits", () => {
    expect(uploadProblem("notes.txt", 3000, quota)).toBeNull();
  });
  it.each([
    ["", 1, "Choose"],
    [".env", 1, "may not begin"],
    ["a\\b", 1, "character"],
    ["tab\there", 1, "character"],
    ["x".repeat(256), 1, "too long"],
  ])("refuses the name %j", (name, size, words) => {
    expect(uploadProblem(name, size, quota)).toContain(words);
  });
  it("refuses a file over the upload limit, naming it", () => {
    expect(uploadProblem("big.bin", 4001, quota)).toBe("The file is 3.9 KiB; one upload may be at most 3.9 KiB.");
  });
  it("refuses a file the workspace has no room for", () => {
    const full = { ...quota, usedBytes: 8000 };
    expect(uploadProblem("a.bin", 3000, full)).toContain("has 2.0 KiB free");
    expect(uploadProblem("a.bin", 2000, full)).toBeNull();
  });
  it("leaves the quota to the server when it is not known yet", () => {
    expect(uploadProblem("a.bin", 10 ** 9, undefined)).toBeNull();
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [256 * 1024 * 1024, "256 MiB"],
  ])("%d → %s", (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});

describe("previewText", () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  it("shows UTF-8 text", () => {
    expect(previewText(encode("héllo\n"))).toEqual({ text: "héllo\n", truncated: false });
  });
  it("calls binary what has a NUL or is not UTF-8", () => {
    expect(previewText(new Uint8Array([104, 0, 105]))).toBeNull();
    expect(previewText(new Uint8Array([0xff, 0xfe, 0x41]))).toBeNull();
  });
  it("cuts a long file without breaking a character", () => {
    const text = "a".repeat(64 * 1024 - 1) + "é" + "tail";
    const shown = previewText(encode(text));
    expect(shown?.truncated).toBe(true);
    expect(shown?.text).toBe("a".repeat(64 * 1024 - 1));
  });
});

describe("parseHeartbeat", () => {
  it.each([
    ["30", { minutes: 30 }],
    [" 5 ", { minutes: 5 }],
    ["10080", { minutes: 10080 }],
  ])("%j is valid", (text, result) => expect(parseHeartbeat(text)).toEqual(result));
  it.each(["0", "10081", "1.5", "-3", "", "often"])("%j is refused", (text) => {
    expect(parseHeartbeat(text)).toHaveProperty("problem");
  });
});
