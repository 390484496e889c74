import { Link } from "react-router-dom";
import { Badge } from "../../../components/ui/Badge";
import { ResultView } from "../../results/ResultView";
import { dateTime, elapsed, formatDuration } from "../format";
import { useNow } from "../hooks/useNow";
import type { RunStep } from "../queries";

function text(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

/** What a step does, in words: the skill and its command, the task, or the agent asked. */
function describe(step: RunStep): string {
  const { spec } = step;
  const skill = text(spec.skill);
  if (skill) return text(spec.command) ? `${skill}: ${String(spec.command)}` : skill;
  const target = text(spec.target_agent_id);
  if (target) return `ask ${target}: ${text(spec.text) ?? ""}`;
  return text(spec.task) ?? text(spec.reason) ?? step.name;
}

/** One step of the plan: status, timings, attempts, error, and its output once it ended. */
export function StepItem({ step, runId }: { step: RunStep; runId: string }) {
  const running = step.status === "running";
  const now = useNow(running);
  const took = step.duration_s ?? (running ? elapsed(step.started_at, null, now) : null);
  const skill = text(step.spec.skill);
  const child = text(step.spec.child_run_id) ?? text(step.result?.child_run_id);
  return (
    <li className={`step step-${step.status}`} data-testid="run-step" data-status={step.status}>
      <div className="row spread">
        <span className="row">
          <span className="step-idx muted">{step.idx + 1}.</span>
          <strong>{step.name}</strong>
          <span className="muted small">{step.kind}</span>
        </span>
        <Badge value={step.status} />
      </div>
      <p className="small step-what">{describe(step)}</p>
      <p className="muted small">
        {step.started_at ? `started ${dateTime(step.started_at)}` : "not started"}
        {step.finished_at && ` · ended ${dateTime(step.finished_at)}`}
        {took !== null && ` · ${formatDuration(took)}${step.finished_at ? "" : " so far"}`}
        {step.attempts > 1 && ` · ${step.attempts} attempts`}
        {step.attempts === 1 && " · 1 attempt"}
      </p>
      {child && (
        <p className="small">
          Child run: <Link to={`/runs/${encodeURIComponent(child)}`}>{child}</Link>
        </p>
      )}
      {step.error && (
        <p className="error small" role="alert">
          {step.error}
        </p>
      )}
      {step.result && (
        <details className="step-output" open={step.kind === "tool"}>
          <summary className="small">Output</summary>
          <ResultView skill={skill ?? step.kind} result={step.result} runId={runId} />
        </details>
      )}
    </li>
  );
}
