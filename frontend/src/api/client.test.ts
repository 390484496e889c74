import { describe, expect, it, vi } from "vitest";
import { ApiError, SESSION_EXPIRED, UNREACHABLE, buildPath, createApiClient } from "./client";

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function setup(fetchImpl: typeof fetch, token: string | null = "tok-1") {
  let stored = token;
  const onUnauthorized = vi.fn();
  const clearToken = vi.fn(() => {
    stored = null;
  });
  const client = createApiClient({ getToken: () => stored, clearToken, onUnauthorized, fetch: fetchImpl });
  return { client, onUnauthorized, clearToken, getStored: () => stored };
}

describe("api client", () => {
  it("sends the bearer token and parses JSON", async () => {
    const fetchMock = vi.fn(async () => jsonResponse(200, { agents: [] }));
    const { client } = setup(fetchMock as unknown as typeof fetch);
    await expect(client.call("listAgents")).resolves.toEqual({ agents: [] });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/agents");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tok-1");
  });

  it("fills path parameters and the query, and sends the body as JSON", async () => {
    const fetchMock = vi.fn(async () => jsonResponse(200, {}));
    const { client } = setup(fetchMock as unknown as typeof fetch);
    await client.call("sendMessage", { path: { agent_id: "mail bot" }, body: { message: "hi" } });
    await client.call("listRuns", { query: { agent_id: "a", limit: 5, status: null } });
    const calls = fetchMock.mock.calls as unknown as [string, RequestInit][];
    expect(calls[0][0]).toBe("/agents/mail%20bot/message");
    expect(calls[0][1].method).toBe("POST");
    expect(calls[0][1].body).toBe(JSON.stringify({ message: "hi" }));
    expect(calls[1][0]).toBe("/orchestrator/runs?agent_id=a&limit=5");
  });

  it("turns an {error, code} body into an ApiError with the server's message", async () => {
    const fetchMock = vi.fn(async () =>
      jsonResponse(404, { error: "agent 'nope' not found", code: "AGENT_NOT_FOUND" }),
    );
    const { client, onUnauthorized } = setup(fetchMock as unknown as typeof fetch);
    const err = await client.call("getAgent", { path: { agent_id: "nope" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe("agent 'nope' not found");
    expect((err as ApiError).code).toBe("AGENT_NOT_FOUND");
    expect((err as ApiError).status).toBe(404);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("says what failed when the error body is not JSON", async () => {
    const fetchMock = vi.fn(async () => new Response("<html>bad gateway</html>", { status: 502 }));
    const { client } = setup(fetchMock as unknown as typeof fetch);
    await expect(client.call("listAgents")).rejects.toMatchObject({
      message: "Request failed (HTTP 502)",
      status: 502,
    });
  });

  it("on 401 clears the token and calls the sign-out handler once", async () => {
    const fetchMock = vi.fn(async () => jsonResponse(401, { error: "token expired", code: "TOKEN_EXPIRED" }));
    const { client, onUnauthorized, clearToken, getStored } = setup(fetchMock as unknown as typeof fetch);
    const results = await Promise.allSettled([client.call("listAgents"), client.call("listSkills")]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toMatchObject({ status: 401, message: SESSION_EXPIRED });
    }
    expect(clearToken).toHaveBeenCalled();
    expect(getStored()).toBeNull();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).toHaveBeenCalledWith(SESSION_EXPIRED);
  });

  it("reports a network failure as 'Cannot reach the server'", async () => {
    const fetchMock = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    });
    const { client, onUnauthorized } = setup(fetchMock as unknown as typeof fetch);
    const err = await client.call("listAgents").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe(UNREACHABLE);
    expect((err as ApiError).status).toBe(0);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("refuses to build a path with a missing parameter", () => {
    expect(() => buildPath("/agents/{agent_id}/start", {})).toThrow(/agent_id/);
  });
});
