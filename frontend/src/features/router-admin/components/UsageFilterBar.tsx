import type { UsageFilters, UsageStatus } from "../usage";
import { USAGE_STATUSES } from "../usage";

function Select({
  id,
  label,
  value,
  choices,
  any,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  choices: readonly string[];
  any: string;
  onChange: (value: string) => void;
}) {
  return (
    <div className="ra-field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{any}</option>
        {choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </div>
  );
}

export interface FilterChoices {
  tenants: string[] | null; // null: the caller sees one tenant only, no tenant menu
  agents: string[];
  models: string[];
}

export function UsageFilterBar({
  filters,
  choices,
  onChange,
  onReset,
}: {
  filters: UsageFilters;
  choices: FilterChoices;
  onChange: (next: UsageFilters) => void;
  onReset: () => void;
}) {
  const set = <K extends keyof UsageFilters>(key: K, value: UsageFilters[K]) => onChange({ ...filters, [key]: value });
  return (
    <form className="ra-filters" aria-label="Usage filters" onSubmit={(e) => e.preventDefault()}>
      {choices.tenants && (
        <Select
          id="usage-tenant"
          label="Tenant"
          value={filters.tenant}
          choices={choices.tenants}
          any="All tenants"
          onChange={(v) => set("tenant", v)}
        />
      )}
      <Select
        id="usage-agent"
        label="Agent"
        value={filters.agent}
        choices={choices.agents}
        any="All agents"
        onChange={(v) => set("agent", v)}
      />
      <Select
        id="usage-model"
        label="Model"
        value={filters.model}
        choices={choices.models}
        any="All models"
        onChange={(v) => set("model", v)}
      />
      <Select
        id="usage-status"
        label="Status"
        value={filters.status}
        choices={USAGE_STATUSES}
        any="Any status"
        onChange={(v) => set("status", v as UsageStatus)}
      />
      <div className="ra-field">
        <label htmlFor="usage-from">From (UTC)</label>
        <input
          id="usage-from"
          type="date"
          value={filters.from}
          max={filters.to || undefined}
          onChange={(e) => set("from", e.target.value)}
        />
      </div>
      <div className="ra-field">
        <label htmlFor="usage-to">To (UTC)</label>
        <input
          id="usage-to"
          type="date"
          value={filters.to}
          min={filters.from || undefined}
          onChange={(e) => set("to", e.target.value)}
        />
      </div>
      <div className="ra-field ra-filters-reset">
        <button type="button" className="secondary" onClick={onReset}>
          Reset filters
        </button>
      </div>
    </form>
  );
}
