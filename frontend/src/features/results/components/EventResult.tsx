import type { StreamEvent } from "../../../api/sse";
import { skillOf } from "../envelope";
import { ResultView } from "../ResultView";

/** A TOOL_RUN_FINISHED event's result, readable (the event log's row expansion). */
export function EventResult({ event }: { event: StreamEvent }) {
  return <ResultView skill={skillOf(event.payload)} result={event.payload} runId={event.run_id ?? undefined} />;
}
