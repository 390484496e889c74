import { endpoints, type OperationId } from "./endpoints";
import type { components, operations } from "./schema";

export type Schemas = components["schemas"];

export const SESSION_EXPIRED = "Your session expired — sign in again";
export const UNREACHABLE = "Cannot reach the server";

/** A failed request, with the server's human message (`{"error", "code"}`) or one of ours. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(message: string, status: number, code: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Words for any thrown value, for showing to the user. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return "Something went wrong";
}

// ---- types derived from the generated schema -------------------------------------------

type Json<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Success<O> = O extends { responses: infer R }
  ? { [K in keyof R]: K extends 200 | 201 | 202 ? Json<R[K]> : never }[keyof R]
  : never;
type Params<O, Where extends string> = O extends { parameters: infer P }
  ? P extends { [W in Where]?: infer Q }
    ? [Q] extends [never | undefined]
      ? never
      : NonNullable<Q>
    : never
  : never;
type Body<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? B : unknown;

export type Response<Id extends OperationId> = Success<operations[Id]>;

export interface CallOptions<Id extends OperationId> {
  path?: Params<operations[Id], "path">;
  query?: Params<operations[Id], "query">;
  body?: Body<operations[Id]>;
  signal?: AbortSignal;
}

// ---- the client ---------------------------------------------------------------------

export interface ClientConfig {
  baseUrl?: string;
  getToken: () => string | null;
  clearToken: () => void;
  /** Called once per session when the server answers 401 (token expired or revoked). */
  onUnauthorized: (message: string) => void;
  fetch?: typeof fetch;
}

export function buildPath(template: string, params?: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null || value === "") {
      throw new ApiError(`Missing path parameter "${name}"`, 0, "CLIENT_ERROR");
    }
    return encodeURIComponent(String(value));
  });
}

export function buildQuery(query?: Record<string, unknown>): string {
  if (!query) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Turns a non-2xx response into an ApiError carrying the server's own words when it sent them. */
export async function toApiError(response: globalThis.Response): Promise<ApiError> {
  let message = `Request failed (HTTP ${response.status})`;
  let code = `HTTP_${response.status}`;
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object") {
      const { error, code: bodyCode } = body as { error?: unknown; code?: unknown };
      if (typeof error === "string" && error) message = error;
      if (typeof bodyCode === "string" && bodyCode) code = bodyCode;
    }
  } catch {
    // not JSON: keep the generic message
  }
  return new ApiError(message, response.status, code);
}

export function createApiClient(config: ClientConfig) {
  const doFetch = config.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const baseUrl = config.baseUrl ?? "";
  let signedOut = false;

  async function send(
    method: string,
    path: string,
    init: { body?: unknown; raw?: Blob; signal?: AbortSignal },
  ): Promise<globalThis.Response> {
    const token = config.getToken();
    if (token) signedOut = false; // a new session after a sign-out
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    if (init.raw !== undefined) headers["Content-Type"] = "application/octet-stream";

    let response: globalThis.Response;
    try {
      response = await doFetch(baseUrl + path, {
        method,
        headers,
        body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
        signal: init.signal,
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(UNREACHABLE, 0, "NETWORK_ERROR");
    }

    if (response.status === 401) {
      const error = await toApiError(response);
      config.clearToken();
      if (!signedOut) {
        signedOut = true;
        config.onUnauthorized(SESSION_EXPIRED);
      }
      throw new ApiError(SESSION_EXPIRED, 401, error.code);
    }
    if (!response.ok) throw await toApiError(response);
    return response;
  }

  async function request<T>(
    method: string,
    path: string,
    init: { body?: unknown; raw?: Blob; signal?: AbortSignal } = {},
  ): Promise<T> {
    const response = await send(method, path, init);
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch {
      throw new ApiError("The server sent a response the app cannot read", response.status, "BAD_RESPONSE");
    }
  }

  /** Calls an operation by its OpenAPI operation id, typed from the generated schema. */
  function call<Id extends OperationId>(id: Id, options: CallOptions<Id> = {}): Promise<Response<Id>> {
    const [method, template] = endpoints[id];
    const url =
      buildPath(template, options.path as Record<string, unknown> | undefined) +
      buildQuery(options.query as Record<string, unknown> | undefined);
    return request<Response<Id>>(method, url, { body: options.body, signal: options.signal });
  }

  /** A file's bytes (a download), with the same token and error handling as every call. */
  async function blob(path: string, signal?: AbortSignal): Promise<Blob> {
    const response = await send("GET", path, { signal });
    return response.blob();
  }

  return { call, request, blob };
}

export type ApiClient = ReturnType<typeof createApiClient>;
