import { memo, useRef, useState } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { Link } from "react-router-dom";
import { statusOf, type WfFlowNode } from "../graph";
import { runIdsOf } from "../live";
import { useNodeEditing } from "./nodeEditing";

/** One node of the graph: its name, status colour, a "new" badge when it just arrived live. */
export const WorkflowNodeView = memo(function WorkflowNodeView({ id, data, selected }: NodeProps<WfFlowNode>) {
  const { editable, editingId, finishRename } = useNodeEditing();
  const status = statusOf(data.node);
  const lastRun = runIdsOf(data.node)[0];
  const classes = [
    "wf-node",
    `wf-status-${status}`,
    data.isNew ? "wf-node-new" : "",
    selected ? "wf-node-selected" : "",
  ];
  return (
    <div
      className={classes.filter(Boolean).join(" ")}
      data-testid="workflow-node"
      data-node-id={id}
      data-status={status}
    >
      <Handle type="target" position={Position.Left} isConnectable={editable} />
      {editable && editingId === id ? (
        <RenameInput initial={data.node.name} onDone={(name) => finishRename(id, name)} />
      ) : (
        <span className="wf-node-name" title={data.node.description || undefined}>
          {data.node.name}
        </span>
      )}
      <span className="wf-node-meta">
        <span className="wf-node-status">{status}</span>
        {data.isNew && <span className="wf-new-badge">new</span>}
        {lastRun && (
          <Link
            className="nodrag wf-node-run"
            to={`/runs/${encodeURIComponent(lastRun)}`}
            title={`Open run ${lastRun}, the latest that executed this node`}
            data-testid="workflow-node-run"
          >
            last run
          </Link>
        )}
      </span>
      <Handle type="source" position={Position.Right} isConnectable={editable} />
    </div>
  );
});

function RenameInput({ initial, onDone }: { initial: string; onDone: (name: string | null) => void }) {
  const [value, setValue] = useState(initial);
  const done = useRef(false);
  const finish = (name: string | null) => {
    if (done.current) return;
    done.current = true;
    onDone(name);
  };
  return (
    <input
      className="nodrag wf-node-input"
      aria-label="Rename node"
      value={value}
      maxLength={200}
      autoFocus
      onFocus={(e) => e.currentTarget.select()}
      onChange={(e) => setValue(e.target.value)}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === "Enter") finish(value);
        if (e.key === "Escape") finish(null);
      }}
      onBlur={() => finish(value)}
    />
  );
}
