/** The choices of the budgets editor's tenant and agent pickers, from what the server knows. */

export interface AgentLike {
  id: string;
  tenant_id: string;
  name: string;
}

export interface Choice {
  value: string;
  label: string;
}

/** Every tenant the caller can see (registered, owning an agent, or already capped), sorted. */
export function tenantChoices(...sources: readonly (readonly string[])[]): string[] {
  return [...new Set(sources.flat().filter((t) => t !== ""))].sort();
}

/**
 * The agents a cap row may name: the chosen tenant's (every tenant's while none is chosen), by id
 * with their name; the row's current id stays a choice even when no such agent exists (any more).
 */
export function agentChoices(agents: readonly AgentLike[], tenant: string, current: string): Choice[] {
  const seen = new Set<string>();
  const out: Choice[] = [];
  for (const agent of agents) {
    if ((tenant !== "" && agent.tenant_id !== tenant) || seen.has(agent.id)) continue;
    seen.add(agent.id);
    const who = agent.name && agent.name !== agent.id ? `${agent.id} (${agent.name})` : agent.id;
    out.push({ value: agent.id, label: tenant === "" ? `${who} · ${agent.tenant_id}` : who });
  }
  out.sort((a, b) => a.value.localeCompare(b.value));
  if (current !== "" && !seen.has(current)) out.unshift({ value: current, label: `${current} (no such agent)` });
  return out;
}

/** A tenant picker's choices, the row's current value kept. */
export function withCurrent(choices: readonly string[], current: string): Choice[] {
  const out = choices.map((value) => ({ value, label: value }));
  if (current !== "" && !choices.includes(current)) out.unshift({ value: current, label: `${current} (unknown)` });
  return out;
}
