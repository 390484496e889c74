import { useState, type FormEvent } from "react";
import { ErrorText } from "../../../components/ui/QueryState";
import { parseHeartbeat } from "../files";
import { useUpdateAgent, type Agent } from "../queries";

/** The heartbeat interval: a form for operators, the value for everyone else. */
export function AgentSettings({ agent, canOperate }: { agent: Agent; canOperate: boolean }) {
  const update = useUpdateAgent(agent.id);
  const [text, setText] = useState(String(agent.heartbeatMinutes));
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  if (!canOperate) {
    return (
      <p>
        Heartbeat every <strong>{agent.heartbeatMinutes}</strong> min · workspace <code>{agent.workspace}</code>
      </p>
    );
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const parsed = parseHeartbeat(text);
    if ("problem" in parsed) {
      setProblem(parsed.problem);
      return;
    }
    setProblem(null);
    update.mutate({ heartbeatMinutes: parsed.minutes }, { onSuccess: () => setSaved(true) });
  };

  return (
    <form className="stack compact" onSubmit={submit} aria-label="Agent settings" noValidate>
      <label className="row">
        Heartbeat interval (minutes)
        <input
          type="number"
          min={1}
          max={10080}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setSaved(false);
          }}
          aria-invalid={problem !== null}
          style={{ width: "7rem" }}
        />
        <button type="submit" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save"}
        </button>
      </label>
      <p className="muted small">
        Now every {agent.heartbeatMinutes} min; a running agent&apos;s next heartbeat is rescheduled from now.
      </p>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {saved && !update.isPending && <p role="status">Saved.</p>}
      <ErrorText error={update.error} />
    </form>
  );
}
