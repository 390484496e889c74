import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { useCoalescedRefetch } from "./useCoalescedRefetch";

describe("useCoalescedRefetch", () => {
  it("runs once more after the one in flight when asked meanwhile, however often", async () => {
    const pending: (() => void)[] = [];
    const refetch = () => new Promise<void>((resolve) => pending.push(resolve));
    const { result } = renderHook(() => useCoalescedRefetch(refetch));
    act(() => {
      result.current();
      result.current();
      result.current();
    });
    expect(pending).toHaveLength(1);
    await act(async () => pending[0]());
    expect(pending).toHaveLength(2); // the changes asked during the first one are fetched
    await act(async () => pending[1]());
    expect(pending).toHaveLength(2); // and nothing more was asked
    act(() => result.current());
    expect(pending).toHaveLength(3);
  });
});
