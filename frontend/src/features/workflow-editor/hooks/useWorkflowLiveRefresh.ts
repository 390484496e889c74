import { useEffect, useRef } from "react";
import type { StreamEvent } from "../../../api/sse";
import { useEventStream } from "../../events/hooks/useEventStream";
import type { Workflow } from "../graph";
import { eventsAfter, isChangeOf, isRunActivityOf } from "../live";

/**
 * Watches the app's event stream (no polling) and calls `onChange` with the newest event that
 * says this workflow changed (a patch was applied or a version saved) or that a run of its agent
 * moved on (the nodes' derived status and runs change), so the caller refetches.
 */
export function useWorkflowLiveRefresh(
  workflow: Pick<Workflow, "id" | "agent_id"> | undefined,
  onChange: (event: StreamEvent) => void,
) {
  const { log, history } = useEventStream();
  const last = useRef<StreamEvent | null | undefined>(undefined);
  const callback = useRef(onChange);
  callback.current = onChange;
  const id = workflow?.id;
  const agentId = workflow?.agent_id ?? null;

  useEffect(() => {
    const events = log.events;
    const newest = events.length ? events[events.length - 1] : null;
    // Events from before the page (or this workflow) was opened are already in the fetched data.
    // (The history page loaded at start is not news either.)
    if (last.current === undefined || !id || !history.loaded) {
      last.current = newest;
      return;
    }
    const arrived = eventsAfter(events, last.current);
    last.current = newest;
    const changes = arrived.filter(
      (e) => isChangeOf(e, { id, agent_id: agentId }) || isRunActivityOf(e, { agent_id: agentId }),
    );
    if (changes.length) callback.current(changes[changes.length - 1]);
  }, [log.events, id, agentId, history.loaded]);
}
