import { useCan } from "../auth/session";
import { FleetAgentsPanel } from "./components/FleetAgentsPanel";
import { FleetRegistryPanels } from "./components/FleetRegistryPanels";

/** `/fleet` (admins): tenants, clouds, nodes and fleet agents, and provisioning an agent onto a node. */
export function FleetPage() {
  const canSee = useCan("fleet");
  if (!canSee) {
    return (
      <div className="page-narrow panel panel-body">
        <h1>Fleet is for admins</h1>
        <p className="muted">Your role cannot see or change the fleet.</p>
      </div>
    );
  }
  return (
    <div className="fleet-page">
      <FleetAgentsPanel />
      <FleetRegistryPanels />
    </div>
  );
}
