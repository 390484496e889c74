import { vi } from "vitest";

/** A canned answer, or one computed from the request body. */
export type Reply = [number, unknown];
export type Handler = Reply | ((body: unknown) => Reply);

/** Every request the fake saw, in order (tests clear it in beforeEach). */
export const calls: { method: string; path: string; body: unknown }[] = [];

/** A `fetch` that answers "METHOD /path" from `routes` (query strings ignored), 404 otherwise. */
export function respond(routes: Record<string, Handler>) {
  return vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const path = String(input).replace(/\?.*$/, "");
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path, body });
    const handler = routes[`${method} ${path}`];
    const [status, reply] =
      handler === undefined
        ? [404, { error: "no route", code: "NOT_FOUND" }]
        : typeof handler === "function"
          ? handler(body)
          : handler;
    return new Response(JSON.stringify(reply), { status, headers: { "Content-Type": "application/json" } });
  });
}
