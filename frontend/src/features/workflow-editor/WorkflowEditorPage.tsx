import { useCallback } from "react";
import { useSearchParams } from "react-router-dom";
import { WorkflowEditor } from "./components/WorkflowEditor";
import { targetFromParams, targetValue, type WorkflowTarget } from "./queries";

/**
 * `/workflow`: the workflow lives in the URL — `?agent=<id>` (that agent's own workflow, as
 * Mission Control links it) or `?workflow=<id>` (a standalone one) — so a view can be linked.
 */
export function WorkflowEditorPage() {
  const [params, setParams] = useSearchParams();
  const target = targetFromParams(params);
  const choose = useCallback(
    (next: WorkflowTarget | null) => setParams(next ? { [next.kind]: next.id } : {}),
    [setParams],
  );
  // One editor per workflow: switching starts from a clean draft.
  return <WorkflowEditor key={targetValue(target)} target={target} onChoose={choose} />;
}
