import { describe, expect, it, vi } from "vitest";
import { approvalIdOf, takeApprovalLink } from "./link";

function fakeWindow(url: string) {
  const parsed = new URL(url, "https://talkative.example.com");
  const replaceState = vi.fn();
  const win = {
    location: { pathname: parsed.pathname, search: parsed.search, hash: parsed.hash },
    history: { state: null, replaceState },
  } as unknown as Window;
  return { win, replaceState };
}

describe("approval links", () => {
  it("names the approval of a single-approval path only", () => {
    expect(approvalIdOf("/approvals/apr_0123abcd")).toBe("apr_0123abcd");
    expect(approvalIdOf("/approvals")).toBeNull();
    expect(approvalIdOf("/approvals/apr_1/decision")).toBeNull();
    expect(approvalIdOf("/runs/run_1")).toBeNull();
  });

  it("takes the token out of the address bar and does not store it", () => {
    const { win, replaceState } = fakeWindow("/approvals/apr_1?x=1#token=eyJ.abc.def");
    expect(takeApprovalLink(win)).toEqual({ approvalId: "apr_1", token: "eyJ.abc.def" });
    expect(replaceState).toHaveBeenCalledWith(null, "", "/approvals/apr_1?x=1");
    expect(localStorage.getItem("talkative.token")).toBeNull();
  });

  it("leaves other pages and tokenless approval pages alone", () => {
    for (const url of ["/approvals/apr_1", "/#token=eyJ.abc.def", "/runs/run_1#token=x"]) {
      const { win, replaceState } = fakeWindow(url);
      expect(takeApprovalLink(win)).toBeNull();
      expect(replaceState).not.toHaveBeenCalled();
    }
  });
});
