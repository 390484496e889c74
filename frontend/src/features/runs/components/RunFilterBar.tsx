import { useAgents } from "../../agents/queries";
import { RUN_KINDS, RUN_STATUSES, type RunFilters } from "../filters";

const RANGE_LABELS = [
  ["", "Any time"],
  ["1h", "Last hour"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["custom", "Between dates…"],
] as const;

/** The runs list's filters; every change goes to the URL (the page reads them back from there). */
export function RunFilterBar({ filters, onChange }: { filters: RunFilters; onChange: (next: RunFilters) => void }) {
  const agents = useAgents();
  const set = (patch: Partial<RunFilters>) => onChange({ ...filters, ...patch });
  const known = agents.data ?? [];
  const listed = known.some((a) => a.id === filters.agent);
  return (
    <form className="run-filters row" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
      <label>
        Agent{" "}
        <select value={filters.agent} onChange={(e) => set({ agent: e.target.value })}>
          <option value="">All agents</option>
          {filters.agent && !listed && <option value={filters.agent}>{filters.agent}</option>}
          {known.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name === a.id ? a.id : `${a.name} (${a.id})`}
            </option>
          ))}
        </select>
      </label>
      <label>
        Status{" "}
        <select value={filters.status} onChange={(e) => set({ status: e.target.value as RunFilters["status"] })}>
          <option value="">Any status</option>
          {RUN_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace(/_/g, " ")}
            </option>
          ))}
        </select>
      </label>
      <label>
        Kind{" "}
        <select value={filters.kind} onChange={(e) => set({ kind: e.target.value as RunFilters["kind"] })}>
          <option value="">Any kind</option>
          {RUN_KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <label>
        Time{" "}
        <select value={filters.range} onChange={(e) => set({ range: e.target.value as RunFilters["range"] })}>
          {RANGE_LABELS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {filters.range === "custom" && (
        <>
          <label>
            From <input type="date" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
          </label>
          <label>
            To <input type="date" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
          </label>
        </>
      )}
      {agents.error && <span className="error small">Agents could not be listed; the agent filter still works.</span>}
    </form>
  );
}
