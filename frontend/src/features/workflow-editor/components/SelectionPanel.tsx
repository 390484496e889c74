import { Panel } from "../../../components/ui/Panel";
import type { FlowGraph, NodeStatus } from "../graph";
import { NodeDetails } from "./NodeDetails";

export interface SelectionActions {
  onRename: (id: string, name: string) => void;
  onStatus: (id: string, status: NodeStatus) => void;
  onConnect: (source: string, target: string) => void;
  onRemove: (nodeIds: string[], edgeIds: string[]) => void;
}

interface Props extends SelectionActions {
  flow: FlowGraph;
  editable: boolean;
}

/** Details of the selected node or connection; for operators, the buttons that change them. */
export function SelectionPanel({ flow, editable, onRename, onStatus, onConnect, onRemove }: Props) {
  const nodes = flow.nodes.filter((n) => n.selected);
  const edges = flow.edges.filter((e) => e.selected);
  const names = new Map(flow.nodes.map((n) => [n.id, n.data.node.name]));
  const nameOf = (id: string) => names.get(id) ?? id;

  let body;
  if (nodes.length === 1) {
    body = (
      <NodeDetails
        key={nodes[0].id}
        node={nodes[0]}
        flow={flow}
        editable={editable}
        nameOf={nameOf}
        onRename={onRename}
        onStatus={onStatus}
        onConnect={onConnect}
        onRemove={onRemove}
      />
    );
  } else if (nodes.length > 1) {
    body = (
      <>
        <p>{nodes.length} nodes selected.</p>
        {editable && (
          <div className="row">
            <button
              type="button"
              className="danger"
              onClick={() =>
                onRemove(
                  nodes.map((n) => n.id),
                  edges.map((e) => e.id),
                )
              }
            >
              Delete selected nodes
            </button>
          </div>
        )}
      </>
    );
  } else if (edges.length > 0) {
    body = (
      <>
        <ul className="plain wf-connections">
          {edges.map((e) => (
            <li key={e.id}>
              {nameOf(e.source)} → {nameOf(e.target)}
            </li>
          ))}
        </ul>
        {editable && (
          <div className="row">
            <button
              type="button"
              className="danger"
              onClick={() =>
                onRemove(
                  [],
                  edges.map((e) => e.id),
                )
              }
            >
              Delete connection
            </button>
          </div>
        )}
      </>
    );
  } else {
    body = (
      <p className="muted small">
        {editable
          ? "Select a node to rename, connect or delete it (double-click renames in place; the Delete key deletes). Drag from a node's right handle to another node's left handle to connect them."
          : "Select a node to see its details. You can view this workflow; changing it needs the operator role."}
      </p>
    );
  }

  return (
    <Panel title="Selection" id="workflow-selection">
      {body}
    </Panel>
  );
}
