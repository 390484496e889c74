import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { api } from "../../api";
import { saveBlob } from "../../lib/download";
import { fileUrl } from "../agents/files";
import { findReport } from "./envelope";

// The run, as far as a result needs it: its agent (whose workspace holds the files) and its
// history (where a step's report is). A finished step's run history does not change.
const runQuery = (runId: string) => ({
  queryKey: ["result-run", runId],
  queryFn: ({ signal }: { signal: AbortSignal }) => api.call("getRun", { path: { run_id: runId }, signal }),
  staleTime: Infinity,
});

/** The report of a step whose result does not carry it, from its run's history. */
export function useRunReport(runId: string | undefined, skill: string, result: unknown, enabled: boolean) {
  return useQuery({
    ...runQuery(runId ?? ""),
    enabled: enabled && Boolean(runId),
    select: (run) => findReport(run.steps, skill, result),
  });
}

/**
 * Downloads an artifact (`outputs/...`) of a run with the session's token. The run's agent is
 * looked up on the first download only: a log full of results asks nothing until someone downloads.
 */
export function useArtifactDownload(runId: string | undefined) {
  const qc = useQueryClient();
  return useCallback(
    async (path: string): Promise<void> => {
      if (!runId) throw new Error("This result names no run, so its files cannot be found.");
      const run = await qc.fetchQuery(runQuery(runId));
      const blob = await api.blob(fileUrl(run.agent_id, "outputs", path.replace(/^outputs\//, "")));
      saveBlob(blob, path.split("/").pop() || path);
    },
    [qc, runId],
  );
}
