import { afterEach, describe, expect, it, vi } from "vitest";
import type { StreamEvent } from "../../api/sse";
import { openRunStream, runStreamUrl } from "./runStream";

class FakeSource {
  static CLOSED = 2;
  static made: FakeSource[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((m: MessageEvent<string>) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSource.made.push(this);
  }
  close() {
    this.closed = true;
  }
  emit(lastEventId: string, data: object) {
    this.onmessage?.({ lastEventId, data: JSON.stringify(data) } as MessageEvent<string>);
  }
}

afterEach(() => {
  FakeSource.made = [];
  vi.useRealTimers();
});

describe("runStreamUrl", () => {
  it("resumes after the position for one agent, with the token EventSource cannot send as a header", () => {
    const url = new URL(runStreamUrl("tok", "7.42", "ana"), "http://x");
    expect(url.pathname).toBe("/events");
    expect(Object.fromEntries(url.searchParams)).toEqual({ access_token: "tok", after: "7.42", agent_id: "ana" });
  });
});

describe("openRunStream", () => {
  it("delivers events and, when the browser gives up, resumes after the last position seen", () => {
    vi.useFakeTimers();
    const got: StreamEvent[] = [];
    const close = openRunStream({
      token: "tok",
      after: "10",
      agentId: "ana",
      onEvent: (e) => got.push(e),
      EventSourceImpl: FakeSource as unknown as typeof EventSource,
      retryMs: 100,
    });
    const first = FakeSource.made[0];
    expect(new URL(first.url, "http://x").searchParams.get("after")).toBe("10");
    first.emit("3.11", { id: 11, type: "RUN_PAUSED", run_id: "r1" });
    expect(got.map((e) => [e.id, e.type])).toEqual([[11, "RUN_PAUSED"]]);

    first.readyState = FakeSource.CLOSED;
    first.onerror?.();
    expect(first.closed).toBe(true);
    vi.advanceTimersByTime(100);
    const second = FakeSource.made[1];
    expect(new URL(second.url, "http://x").searchParams.get("after")).toBe("3.11");

    close();
    expect(second.closed).toBe(true);
  });
});
