import { useCallback, useEffect, useReducer, useRef } from "react";
import { api } from "../../../api";
import { errorMessage } from "../../../api/client";
import { canLoadOlder, initialPaging, pagingReducer, type PagingState } from "../history";

export interface OlderQuery {
  agentId?: string | null;
  type?: string;
  limit: number;
}

/**
 * Backwards paging through GET /events/history with the given filters, from `start` (the cursor
 * of the page before what is already shown). `reloadKey` changes reset it (filters, a new start).
 * With `start` undefined the first load is the newest page (`before` left out).
 */
export function useOlderEvents(query: OlderQuery, start: { nextBefore: string | null; hasMore: boolean } | undefined) {
  const [state, dispatch] = useReducer(pagingReducer, undefined, () =>
    initialPaging(start?.nextBefore ?? null, start?.hasMore ?? false),
  );
  const { agentId, type, limit } = query;
  const current = useRef<PagingState>(state);
  current.current = state;
  const generation = useRef(0);
  const startKey = start ? `${start.nextBefore}|${start.hasMore}` : "newest";

  const fetchPage = useCallback(
    (before: string | null) => {
      const mine = generation.current;
      dispatch({ type: "loading" });
      api
        .call("getEventHistory", {
          query: { before: before ?? undefined, limit, agent_id: agentId ?? undefined, type: type || undefined },
        })
        .then((page) => {
          if (mine === generation.current) dispatch({ type: "loaded", page });
        })
        .catch((err: unknown) => {
          if (mine === generation.current)
            dispatch({ type: "failed", error: `The history could not be loaded: ${errorMessage(err)}` });
        });
    },
    [agentId, type, limit],
  );

  // New filters or a new start: forget the pages loaded for the old ones.
  useEffect(() => {
    generation.current += 1;
    if (start) {
      dispatch({ type: "reset", nextBefore: start.nextBefore, hasMore: start.hasMore });
    } else {
      dispatch({ type: "reset", nextBefore: null, hasMore: false });
      fetchPage(null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- startKey stands for `start`
  }, [startKey, fetchPage]);

  const loadOlder = useCallback(() => {
    if (canLoadOlder(current.current)) fetchPage(current.current.nextBefore);
  }, [fetchPage]);

  /** After a failure: the page that failed again (the newest, when none was loaded yet). */
  const retry = useCallback(() => {
    const now = current.current;
    if (now.loading) return;
    if (!start && now.pages === 0) fetchPage(null);
    else if (canLoadOlder(now)) fetchPage(now.nextBefore);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- startKey stands for `start`
  }, [startKey, fetchPage]);

  const reset = useCallback(() => {
    generation.current += 1;
    dispatch({ type: "reset", nextBefore: null, hasMore: false });
  }, []);

  return { ...state, canLoadOlder: canLoadOlder(state), loadOlder, retry, reset };
}
