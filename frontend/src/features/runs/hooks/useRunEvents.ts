import { useEffect, useMemo, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { StreamEvent, StreamStatus } from "../../../api/sse";
import { useSession } from "../../auth/session";
import { runKeys, useRunEventPages } from "../queries";
import { changesRun, mergeRunEvents } from "../runEvents";
import { openRunStream } from "../runStream";

const REFRESH_MS = 200;

/**
 * A run's events: loaded from the store (older pages on demand), then followed live from the
 * newest page's `live_after`, repeats dropped by id. Events that change the run refresh its detail.
 */
export function useRunEvents(runId: string, agentId: string | undefined) {
  const { token } = useSession();
  const qc = useQueryClient();
  const pages = useRunEventPages(runId);
  const [live, setLive] = useState<StreamEvent[]>([]);
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const liveAfter = pages.data?.pages[0]?.live_after ?? null;

  useEffect(() => {
    if (!liveAfter || !agentId) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const close = openRunStream({
      token,
      after: liveAfter,
      agentId,
      onStatus: setStatus,
      onEvent: (event) => {
        if (event.run_id !== runId) return;
        setLive((prev) => [...prev, event]);
        if (changesRun(event.type) && !timer) {
          timer = setTimeout(() => {
            timer = null;
            void qc.invalidateQueries({ queryKey: runKeys.detail(runId) });
          }, REFRESH_MS);
        }
      },
    });
    return () => {
      close();
      if (timer) clearTimeout(timer);
    };
  }, [token, liveAfter, agentId, runId, qc]);

  const events = useMemo(
    () =>
      mergeRunEvents(
        (pages.data?.pages ?? []).map((p) => p.events),
        live,
        runId,
      ),
    [pages.data, live, runId],
  );

  return {
    events,
    status,
    isPending: pages.isPending,
    error: pages.error,
    refetch: pages.refetch,
    hasOlder: pages.hasNextPage,
    loadOlder: () => void pages.fetchNextPage(),
    loadingOlder: pages.isFetchingNextPage,
  };
}
