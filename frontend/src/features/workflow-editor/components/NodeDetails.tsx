import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import {
  canConnect,
  checkName,
  MAX_NAME_CHARS,
  NODE_STATUSES,
  statusOf,
  type FlowGraph,
  type NodeStatus,
  type WfFlowEdge,
  type WfFlowNode,
} from "../graph";
import { runIdsOf } from "../live";
import type { SelectionActions } from "./SelectionPanel";

interface DetailsProps extends SelectionActions {
  editable: boolean;
  node: WfFlowNode;
  flow: FlowGraph;
  nameOf: (id: string) => string;
}

/** The selected node: its name, status, connections; for operators, the controls that change them. */
export function NodeDetails({ node, flow, editable, nameOf, onRename, onStatus, onConnect, onRemove }: DetailsProps) {
  const data = node.data.node;
  const [name, setName] = useState(data.name);
  const [error, setError] = useState<string | null>(null);
  const [target, setTarget] = useState("");
  useEffect(() => setName(data.name), [data.name]);

  const outgoing = flow.edges.filter((e) => e.source === node.id);
  const incoming = flow.edges.filter((e) => e.target === node.id);
  const targets = flow.nodes.filter((n) => canConnect(flow.edges, node.id, n.id));

  const rename = (event: FormEvent) => {
    event.preventDefault();
    const checked = checkName(name);
    if ("error" in checked) {
      setError(checked.error);
      return;
    }
    setError(null);
    onRename(node.id, checked.name);
  };

  return (
    <div className="stack compact" data-testid="workflow-node-details">
      {editable ? (
        <form className="row" onSubmit={rename} aria-label="Rename the selected node">
          <input
            aria-label="Name of the selected node"
            value={name}
            maxLength={MAX_NAME_CHARS}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" className="secondary" disabled={name.trim() === data.name}>
            Rename
          </button>
        </form>
      ) : (
        <p className="wf-detail-name">{data.name}</p>
      )}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
      <p className="muted small">
        id <code>{node.id}</code>
      </p>
      <label className="row small">
        Status
        {editable ? (
          <select value={statusOf(data)} onChange={(e) => onStatus(node.id, e.target.value as NodeStatus)}>
            {NODE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        ) : (
          <span className={`wf-node-status wf-status-${statusOf(data)}`}>{statusOf(data)}</span>
        )}
      </label>
      <NodeRuns runIds={runIdsOf(data)} />
      {data.description && <p className="small">{data.description}</p>}
      {data.assignedPerson && <p className="small">Assigned to {data.assignedPerson}</p>}
      <Connections
        title="Runs after"
        edges={incoming}
        end="source"
        nameOf={nameOf}
        editable={editable}
        onRemove={onRemove}
      />
      <Connections
        title="Runs before"
        edges={outgoing}
        end="target"
        nameOf={nameOf}
        editable={editable}
        onRemove={onRemove}
      />
      {editable && (
        <>
          <div className="row">
            <select aria-label="Connect to node" value={target} onChange={(e) => setTarget(e.target.value)}>
              <option value="">Connect to…</option>
              {targets.map((n) => (
                <option key={n.id} value={n.id}>
                  {n.data.node.name}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="secondary"
              disabled={!target}
              onClick={() => {
                onConnect(node.id, target);
                setTarget("");
              }}
            >
              Add connection
            </button>
          </div>
          <div className="row">
            <button type="button" className="danger" onClick={() => onRemove([node.id], [])}>
              Delete node
            </button>
          </div>
        </>
      )}
    </div>
  );
}

function Connections({
  title,
  edges,
  end,
  nameOf,
  editable,
  onRemove,
}: {
  title: string;
  edges: WfFlowEdge[];
  end: "source" | "target";
  nameOf: (id: string) => string;
  editable: boolean;
  onRemove: (nodeIds: string[], edgeIds: string[]) => void;
}) {
  if (edges.length === 0) return null;
  return (
    <div className="small">
      <span className="muted">{title}:</span>
      <ul className="plain wf-connections">
        {edges.map((e) => (
          <li key={e.id} className="row">
            <span>{nameOf(e[end])}</span>
            {editable && (
              <button
                type="button"
                className="link"
                aria-label={`Remove connection ${nameOf(e.source)} → ${nameOf(e.target)}`}
                onClick={() => onRemove([], [e.id])}
              >
                remove
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The runs that executed the node, newest first, each one click from its detail page. */
function NodeRuns({ runIds }: { runIds: string[] }) {
  if (runIds.length === 0) return <p className="muted small">No run has executed this node yet.</p>;
  return (
    <div className="small" data-testid="workflow-node-runs">
      <span className="muted">Runs (newest first):</span>
      <ul className="plain wf-connections">
        {runIds.map((id) => (
          <li key={id}>
            <Link to={`/runs/${encodeURIComponent(id)}`}>{id}</Link>
          </li>
        ))}
      </ul>
    </div>
  );
}
