import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { isUnreachable, probeReachable } from "../lib/connection";

const HEALTH_KEY = ["health"] as const;
/** How often /health is asked: rarely while all is well, often while the server is away. */
const PROBE_OK_MS = 10_000;
const PROBE_DOWN_MS = 2_000;

async function probe(signal: AbortSignal): Promise<boolean> {
  let status: number | null = null;
  try {
    status = (await fetch("/health", { signal, cache: "no-store" })).status;
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
  }
  return probeReachable(status);
}

/**
 * False while the API cannot be reached: a query or mutation failed for want of an answer, or the
 * /health probe did. True again at the next answer; every query is then refreshed.
 */
export function useServerReachable(): boolean {
  const qc = useQueryClient();
  const [reachable, setReachable] = useState(true);
  const wasDown = useRef(false);

  useEffect(() => {
    const queries = qc.getQueryCache().subscribe((event) => {
      if (event.type !== "updated" || event.query.queryKey[0] === HEALTH_KEY[0]) return;
      if (event.action.type === "error" && isUnreachable(event.action.error)) setReachable(false);
      if (event.action.type === "success") setReachable(true);
    });
    const mutations = qc.getMutationCache().subscribe((event) => {
      if (event.type === "updated" && event.action.type === "error" && isUnreachable(event.action.error)) {
        setReachable(false);
      }
    });
    return () => {
      queries();
      mutations();
    };
  }, [qc]);

  const health = useQuery({
    queryKey: HEALTH_KEY,
    queryFn: ({ signal }) => probe(signal),
    refetchInterval: reachable ? PROBE_OK_MS : PROBE_DOWN_MS,
    refetchIntervalInBackground: false,
    retry: false,
    staleTime: 0,
  });
  const probed = health.data;
  const probedAt = health.dataUpdatedAt;
  useEffect(() => {
    if (probed !== undefined) setReachable(probed);
  }, [probed, probedAt]);

  useEffect(() => {
    if (!reachable) wasDown.current = true;
    else if (wasDown.current) {
      wasDown.current = false;
      void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] !== HEALTH_KEY[0] });
    }
  }, [reachable, qc]);
  return reachable;
}
