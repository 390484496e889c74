import { Link } from "react-router-dom";
import { useEventStream } from "../../events/hooks/useEventStream";
import type { Workflow } from "../graph";

const STREAM_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" } as const;

interface Props {
  workflow: Workflow;
  /** Operators see whether the draft has unsaved changes. */
  canEdit: boolean;
  dirty: boolean;
}

/** The workflow's name and version, its agent, unsaved changes, and whether live updates arrive. */
export function WorkflowHeader({ workflow, canEdit, dirty }: Props) {
  const { status: streamStatus } = useEventStream();
  return (
    <div className="row spread wf-info">
      <div className="row">
        <h3 className="wf-title" data-testid="workflow-name">
          {workflow.name}
        </h3>
        <span className="badge" data-testid="workflow-version">
          v{workflow.version}
        </span>
        {workflow.agent_id && (
          <Link className="small" to={`/?agent=${encodeURIComponent(workflow.agent_id)}`}>
            Open agent
          </Link>
        )}
      </div>
      <div className="row">
        {canEdit && (
          <span className={dirty ? "wf-dirty" : "muted small"} data-testid="workflow-dirty">
            {dirty ? "Unsaved changes" : "No unsaved changes"}
          </span>
        )}
        <span className={`stream-status stream-${streamStatus}`} role="status">
          {STREAM_TEXT[streamStatus]}
        </span>
      </div>
    </div>
  );
}
