import { describe, expect, it } from "vitest";
import { ApiError, UNREACHABLE } from "../../api/client";
import { chatAvailability, sendErrorText } from "./errors";

describe("sendErrorText", () => {
  it("says a stopped agent's refusal in words, without the API's route", () => {
    const text = sendErrorText(
      new ApiError("agent 'a' is stopped; start it with POST /agents/a/start", 409, "AGENT_NOT_RUNNING"),
    );
    expect(text).toBe("Not sent: this agent is stopped. Start it, then send the message again.");
    expect(text).not.toContain("POST");
  });
  it("says the server is away", () => {
    expect(sendErrorText(new ApiError(UNREACHABLE, 0, "NETWORK_ERROR"))).toMatch(/cannot be reached/);
  });
  it("keeps the server's own words otherwise", () => {
    expect(sendErrorText(new ApiError("message too long", 422, "INVALID_INPUT"))).toBe("message too long");
  });
});

describe("chatAvailability", () => {
  it.each([
    ["running", true, "ready"],
    ["stopped", true, "stopped"],
    ["running", false, "read-only"],
    [undefined, true, "unknown"],
  ] as const)("%s with operate=%s is %s", (status, canOperate, expected) => {
    expect(chatAvailability(status, canOperate)).toBe(expected);
  });
});
