import { useState, type FormEvent } from "react";
import { ErrorText } from "../../../components/ui/QueryState";
import { describePlacement, nodesFor } from "../placement";
import { useProvision, type FleetAgent, type FleetNode } from "../queries";

/** Provisions the agent onto one of its tenant's nodes and shows what came of it. */
export function ProvisionForm({ agent, nodes }: { agent: FleetAgent; nodes: readonly FleetNode[] }) {
  const provision = useProvision();
  const choices = nodesFor(agent, nodes);
  const [nodeId, setNodeId] = useState("");
  const chosen = nodeId || choices[0]?.id || "";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (chosen) provision.mutate({ agent, nodeId: chosen });
  };

  if (choices.length === 0) return <p className="muted small">No node of tenant {agent.tenant_id} to provision to.</p>;
  return (
    <form className="stack compact" onSubmit={submit} aria-label={`Provision ${agent.id}`}>
      <div className="row">
        <select aria-label="Node" value={chosen} onChange={(e) => setNodeId(e.target.value)}>
          {choices.map((node) => (
            <option key={node.id} value={node.id}>
              {node.name} ({node.mode})
            </option>
          ))}
        </select>
        <button type="submit" disabled={provision.isPending}>
          {provision.isPending ? "Provisioning…" : "Provision"}
        </button>
      </div>
      {provision.data && (
        <p role="status" className="small">
          {describePlacement(provision.data, nodes)}
        </p>
      )}
      <ErrorText error={provision.error} />
    </form>
  );
}
