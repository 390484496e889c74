import { createBrowserRouter, Link, useRouteError } from "react-router-dom";
import { errorMessage } from "../api/client";
import { StatusScreen } from "../components/ui/StatusScreen";
import { AgentPage } from "../features/agents/AgentPage";
import { ApprovalDetailPage } from "../features/approvals/ApprovalPage";
import { ApprovalsPage } from "../features/approvals/ApprovalsPage";
import { FleetPage } from "../features/fleet/FleetPage";
import { MissionControlPage } from "../features/mission-control/MissionControlPage";
import { RouterAdminPage } from "../features/router-admin/RouterAdminPage";
import { RunDetailPage } from "../features/runs/RunDetailPage";
import { RunsPage } from "../features/runs/RunsPage";
import { WorkflowEditorPage } from "../features/workflow-editor/WorkflowEditorPage";
import { Layout } from "./Layout";

function RouteError() {
  const error = useRouteError();
  return (
    <StatusScreen title="This page failed to load" detail={errorMessage(error)}>
      <button type="button" onClick={() => window.location.reload()}>
        Reload
      </button>
    </StatusScreen>
  );
}

function NotFound() {
  return (
    <div className="page-narrow panel">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Go to Mission Control</Link>
      </p>
    </div>
  );
}

export const router = createBrowserRouter([
  {
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { path: "/", element: <MissionControlPage /> },
      { path: "/workflow", element: <WorkflowEditorPage /> },
      { path: "/router-admin", element: <RouterAdminPage /> },
      { path: "/agent/:agentId", element: <AgentPage /> },
      { path: "/fleet", element: <FleetPage /> },
      { path: "/runs", element: <RunsPage /> },
      { path: "/runs/:runId", element: <RunDetailPage /> },
      { path: "/approvals", element: <ApprovalsPage /> },
      { path: "/approvals/:approvalId", element: <ApprovalDetailPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
