import { parseStreamEvent, type StreamEvent, type StreamStatus } from "../../api/sse";

/** `GET /events` from a stream position, narrowed to one agent (EventSource cannot send headers). */
export function runStreamUrl(token: string, after: string, agentId: string, baseUrl = ""): string {
  const params = new URLSearchParams({ access_token: token, after, agent_id: agentId });
  return `${baseUrl}/events?${params.toString()}`;
}

export interface RunStreamOptions {
  token: string;
  /** The newest page's `live_after`: nothing committed after it is missed. */
  after: string;
  agentId: string;
  onEvent: (event: StreamEvent) => void;
  onStatus?: (status: StreamStatus) => void;
  retryMs?: number;
  EventSourceImpl?: typeof EventSource;
}

/**
 * Follows the stream from a position. While a connection drops the browser reconnects with
 * Last-Event-ID on its own; when it gives up, a new one resumes after the last position seen
 * (the SSE `id:`, "xact.id" on PostgreSQL). Returns a function that closes it.
 */
export function openRunStream(options: RunStreamOptions): () => void {
  const Impl = options.EventSourceImpl ?? EventSource;
  const retry = options.retryMs ?? 2000;
  let position = options.after;
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  let attempts = 0;

  const connect = () => {
    if (closed) return;
    options.onStatus?.(attempts === 0 ? "connecting" : "reconnecting");
    const es = new Impl(runStreamUrl(options.token, position, options.agentId));
    source = es;
    es.onopen = () => {
      attempts = 0;
      options.onStatus?.("live");
    };
    es.onmessage = (message: MessageEvent<string>) => {
      if (message.lastEventId) position = message.lastEventId;
      const event = parseStreamEvent(message.data, message.lastEventId);
      if (event) options.onEvent(event);
    };
    es.onerror = () => {
      if (closed) return;
      options.onStatus?.("reconnecting");
      if (es.readyState === Impl.CLOSED) {
        es.close();
        attempts += 1;
        timer = setTimeout(connect, Math.min(retry * 2 ** Math.min(attempts - 1, 4), 30_000));
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
