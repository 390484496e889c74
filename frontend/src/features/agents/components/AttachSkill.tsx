import { useState } from "react";
import { ErrorText } from "../../../components/ui/QueryState";
import { useAgentSkills, useAttachSkill, useSkills } from "../queries";

export function AttachSkill({ agentId }: { agentId: string }) {
  const catalogue = useSkills();
  const attached = useAgentSkills(agentId);
  const attach = useAttachSkill();
  const [skill, setSkill] = useState("");
  const have = new Set(attached.data?.map((s) => s.name));
  const options = catalogue.data?.filter((s) => !have.has(s.name)) ?? [];

  return (
    <div className="stack compact">
      <p className="muted small">
        Skills: {attached.isPending ? "loading…" : attached.data?.map((s) => s.name).join(", ") || "none"}
      </p>
      <div className="row">
        <select aria-label="Skill to attach" value={skill} onChange={(e) => setSkill(e.target.value)}>
          <option value="">Attach a skill…</option>
          {options.map((s) => (
            <option key={s.name} value={s.name} title={s.description}>
              {s.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="secondary"
          disabled={!skill || attach.isPending}
          onClick={() => attach.mutate({ agentId, skillName: skill }, { onSuccess: () => setSkill("") })}
        >
          {attach.isPending ? "Attaching…" : "Attach"}
        </button>
      </div>
      <ErrorText error={attached.error ?? attach.error} />
    </div>
  );
}
