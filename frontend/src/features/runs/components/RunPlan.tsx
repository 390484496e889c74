import { Panel } from "../../../components/ui/Panel";
import type { Run } from "../queries";
import { StepItem } from "./StepItem";

/** The run's plan: every step in order, with what it did. */
export function RunPlan({ run }: { run: Run }) {
  const plan = run.plan ?? [];
  const done = plan.filter((s) => s.status === "done").length;
  return (
    <Panel
      title="Plan"
      id="run-plan"
      actions={<span className="muted small">{`${done} of ${plan.length} steps done`}</span>}
    >
      {plan.length === 0 ? (
        <p className="muted">Nothing to execute: no skill, approval or delegation was planned for this run.</p>
      ) : (
        <ol className="plain step-list">
          {plan.map((step) => (
            <StepItem key={step.idx} step={step} runId={run.run_id} />
          ))}
        </ol>
      )}
    </Panel>
  );
}
