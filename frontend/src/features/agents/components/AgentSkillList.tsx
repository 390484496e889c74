import { Badge } from "../../../components/ui/Badge";
import { QueryState } from "../../../components/ui/QueryState";
import { useAgentSkills } from "../queries";

/** The skills in the agent's workspace and whether each may run (read-only). */
export function AgentSkillList({ agentId }: { agentId: string }) {
  const skills = useAgentSkills(agentId);
  return (
    <QueryState
      isPending={skills.isPending}
      error={skills.error}
      isEmpty={skills.data?.length === 0}
      empty="No skills attached."
    >
      <ul className="plain-list">
        {skills.data?.map((skill) => (
          <li key={skill.name}>
            {skill.name} {skill.trust && <Badge value={skill.trust} />}
          </li>
        ))}
      </ul>
    </QueryState>
  );
}
