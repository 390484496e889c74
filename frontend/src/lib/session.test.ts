import { afterEach, describe, expect, it } from "vitest";
import { consumeLoginLink, extractLoginToken, normalizePastedToken, tokenStore } from "./session";

describe("login link", () => {
  afterEach(() => window.history.replaceState(null, "", "/"));

  it("extracts the token from #token=…", () => {
    expect(extractLoginToken("#token=abc.def.ghi")).toEqual({ token: "abc.def.ghi", rest: "" });
  });

  it("keeps other fragment parameters", () => {
    expect(extractLoginToken("#token=abc&tab=runs")).toEqual({ token: "abc", rest: "#tab=runs" });
  });

  it("finds no token in other fragments", () => {
    expect(extractLoginToken("")).toEqual({ token: null, rest: "" });
    expect(extractLoginToken("#approval-123")).toEqual({ token: null, rest: "#approval-123" });
    expect(extractLoginToken("#token=").token).toBeNull();
  });

  it("stores the token and strips it from the address bar", () => {
    window.history.replaceState(null, "", "/workflow?agent=a#token=jwt-1");
    expect(consumeLoginLink()).toBe("jwt-1");
    expect(tokenStore.get()).toBe("jwt-1");
    expect(window.location.hash).toBe("");
    expect(window.location.pathname + window.location.search).toBe("/workflow?agent=a");
  });

  it("leaves the stored token alone when there is no link", () => {
    tokenStore.set("old");
    window.history.replaceState(null, "", "/");
    expect(consumeLoginLink()).toBeNull();
    expect(tokenStore.get()).toBe("old");
  });

  it("accepts a pasted token, a pasted link or a Bearer header", () => {
    expect(normalizePastedToken("  jwt-2 \n")).toBe("jwt-2");
    expect(normalizePastedToken("http://127.0.0.1:4123/#token=jwt-3")).toBe("jwt-3");
    expect(normalizePastedToken("Bearer jwt-4")).toBe("jwt-4");
    expect(normalizePastedToken("   ")).toBeNull();
  });
});
