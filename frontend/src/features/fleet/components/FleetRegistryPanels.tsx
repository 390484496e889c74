import { Badge } from "../../../components/ui/Badge";
import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { relativeTime } from "../../../lib/format";
import { useClouds, useNodes, useTenants } from "../queries";

/** The registry, read-only: tenants, clouds and nodes (with each node's health). */
export function FleetRegistryPanels() {
  const tenants = useTenants();
  const clouds = useClouds();
  const nodes = useNodes();
  return (
    <>
      <Panel title="Nodes" id="fleet-nodes">
        <QueryState
          isPending={nodes.isPending}
          error={nodes.error}
          onRetry={() => void nodes.refetch()}
          isEmpty={nodes.data?.length === 0}
          empty="No nodes registered (POST /fleet/nodes)."
        >
          <table className="ra-table" aria-label="Nodes">
            <thead>
              <tr>
                <th>Node</th>
                <th>Tenant</th>
                <th>Where</th>
                <th>Status</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {nodes.data?.map((node) => (
                <tr key={`${node.tenant_id}/${node.id}`}>
                  <td>
                    {node.name} <span className="muted small">{node.id}</span>
                  </td>
                  <td>{node.tenant_id}</td>
                  <td className="small">
                    {node.mode === "ssh" ? `${node.ssh_user ?? ""}@${node.ssh_host ?? ""}` : "local"}{" "}
                    {node.base_path && <code>{node.base_path}</code>}
                    {node.cloud_id && <span className="muted"> · {node.cloud_id}</span>}
                  </td>
                  <td>
                    <Badge value={node.status} />
                    {node.last_error && <div className="error small">{node.last_error}</div>}
                  </td>
                  <td>{relativeTime(node.last_seen_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </QueryState>
      </Panel>
      <Panel title="Clouds" id="fleet-clouds">
        <QueryState
          isPending={clouds.isPending}
          error={clouds.error}
          isEmpty={clouds.data?.length === 0}
          empty="No clouds registered."
        >
          <ul className="plain-list">
            {clouds.data?.map((cloud) => (
              <li key={`${cloud.tenant_id}/${cloud.id}`}>
                <strong>{cloud.name}</strong> {cloud.provider}
                {cloud.region && ` · ${cloud.region}`} <span className="muted small">({cloud.tenant_id})</span>
              </li>
            ))}
          </ul>
        </QueryState>
      </Panel>
      <Panel title="Tenants" id="fleet-tenants">
        <QueryState
          isPending={tenants.isPending}
          error={tenants.error}
          isEmpty={tenants.data?.length === 0}
          empty="No tenants registered."
        >
          <ul className="plain-list">
            {tenants.data?.map((tenant) => (
              <li key={tenant.id}>
                <strong>{tenant.name}</strong> <span className="muted small">{tenant.tenant_id}</span>
              </li>
            ))}
          </ul>
        </QueryState>
      </Panel>
    </>
  );
}
