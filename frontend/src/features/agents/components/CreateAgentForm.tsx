import { useState, type FormEvent } from "react";
import { ErrorText } from "../../../components/ui/QueryState";
import { useCreateAgent, useSkills } from "../queries";

export function CreateAgentForm({ onCreated }: { onCreated: (agentId: string) => void }) {
  const skills = useSkills();
  const create = useCreateAgent();
  const [name, setName] = useState("");
  const [template, setTemplate] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    create.mutate(
      { name: name.trim(), template: template || null },
      {
        onSuccess: (agent) => {
          setName("");
          onCreated(agent.id);
        },
      },
    );
  };

  return (
    <form className="stack compact" onSubmit={submit} aria-label="Create an agent">
      <div className="row">
        <input
          aria-label="Agent name"
          placeholder="New agent name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={80}
          required
        />
        <select aria-label="Template" value={template} onChange={(e) => setTemplate(e.target.value)}>
          <option value="">No template</option>
          {skills.data?.map((s) => (
            <option key={s.name} value={s.name} title={s.description}>
              {s.name}
            </option>
          ))}
        </select>
        <button type="submit" disabled={create.isPending || !name.trim()}>
          {create.isPending ? "Creating…" : "Create"}
        </button>
      </div>
      {skills.isError && <ErrorText error={skills.error} onRetry={() => void skills.refetch()} />}
      <ErrorText error={create.error} />
    </form>
  );
}
