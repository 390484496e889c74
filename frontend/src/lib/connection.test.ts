import { describe, expect, it } from "vitest";
import { ApiError, UNREACHABLE } from "../api/client";
import { isUnreachable, probeReachable } from "./connection";

describe("connection", () => {
  it("counts network failures and gateway errors as unreachable, refusals not", () => {
    expect(isUnreachable(new ApiError(UNREACHABLE, 0, "NETWORK_ERROR"))).toBe(true);
    expect(isUnreachable(new ApiError("bad gateway", 502, "HTTP_502"))).toBe(true);
    expect(isUnreachable(new ApiError("not found", 404, "NOT_FOUND"))).toBe(false);
    expect(isUnreachable(new ApiError("db down", 503, "HTTP_503"))).toBe(false);
    expect(isUnreachable(new Error("boom"))).toBe(false);
  });

  it("reads a probe", () => {
    expect(probeReachable(null)).toBe(false);
    expect(probeReachable(504)).toBe(false);
    expect(probeReachable(200)).toBe(true);
    expect(probeReachable(503)).toBe(true);
  });
});
