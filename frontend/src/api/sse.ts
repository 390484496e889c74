/** The live event stream (GET /events) over EventSource, which cannot send headers: the token goes in `?access_token=`. */

export interface StreamEvent {
  id: number | null;
  /** Where it is in the stream ("xact.id", or the id on SQLite): what `?after=` and `before=` take. */
  position?: string | null;
  type: string;
  tenant_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  timestamp: string;
  message: string | null;
  payload: unknown;
}

export type StreamStatus = "connecting" | "live" | "reconnecting";

export interface EventStreamOptions {
  token: string;
  baseUrl?: string;
  onEvent: (event: StreamEvent) => void;
  onStatus?: (status: StreamStatus) => void;
  /** The browser gave up on the connection (it does on 401/4xx); the caller may check the session. */
  onGiveUp?: () => void;
  retryMs?: number;
  /** Start after this stream position (a history page's `live_after`); null: from now. */
  after?: string | null;
  EventSourceImpl?: typeof EventSource;
}

export function parseStreamEvent(data: string, lastEventId?: string): StreamEvent | null {
  try {
    const raw = JSON.parse(data) as Partial<StreamEvent> & { id?: unknown };
    if (!raw || typeof raw !== "object" || typeof raw.type !== "string") return null;
    const id =
      typeof raw.id === "number" ? raw.id : lastEventId && /^\d+$/.test(lastEventId) ? Number(lastEventId) : null;
    const position =
      typeof raw.position === "string" ? raw.position : lastEventId ? lastEventId : id !== null ? String(id) : null;
    return {
      id,
      position,
      type: raw.type,
      tenant_id: raw.tenant_id ?? null,
      agent_id: raw.agent_id ?? null,
      run_id: raw.run_id ?? null,
      timestamp: typeof raw.timestamp === "string" ? raw.timestamp : new Date().toISOString(),
      message: raw.message ?? null,
      payload: raw.payload ?? null,
    };
  } catch {
    return null;
  }
}

export function streamUrl(baseUrl: string, token: string, after: string | number | null): string {
  const params = new URLSearchParams({ access_token: token });
  if (after !== null) params.set("after", String(after));
  return `${baseUrl}/events?${params.toString()}`;
}

/**
 * Opens the stream (after `options.after` when given) and keeps it open. While a connection
 * drops, the browser itself reconnects and sends Last-Event-ID; when it gives up (the connection
 * closed for good), we open a new one with `?after=<last position seen>` so nothing is lost.
 * Returns a function that closes it.
 */
export function openEventStream(options: EventStreamOptions): () => void {
  const Impl = options.EventSourceImpl ?? EventSource;
  const baseUrl = options.baseUrl ?? "";
  const baseRetry = options.retryMs ?? 2000;
  let lastId: string | null = options.after ?? null;
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let attempts = 0;
  let closed = false;

  const connect = () => {
    if (closed) return;
    options.onStatus?.(attempts === 0 ? "connecting" : "reconnecting");
    const es = new Impl(streamUrl(baseUrl, options.token, lastId));
    source = es;
    es.onopen = () => {
      attempts = 0;
      options.onStatus?.("live");
    };
    es.onmessage = (message: MessageEvent<string>) => {
      const event = parseStreamEvent(message.data, message.lastEventId);
      if (!event) return;
      if (event.position) lastId = event.position;
      options.onEvent(event);
    };
    es.onerror = () => {
      if (closed) return;
      if (es.readyState === Impl.CLOSED) {
        es.close();
        attempts += 1;
        options.onStatus?.("reconnecting");
        options.onGiveUp?.();
        const delay = Math.min(baseRetry * 2 ** Math.min(attempts - 1, 4), 30000);
        timer = setTimeout(connect, delay);
      } else {
        options.onStatus?.("reconnecting"); // the browser is retrying on its own
      }
    };
  };

  connect();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    source?.close();
  };
}
