import { emptyAgentCaps, emptyTenantCaps, type AgentCapRow, type BudgetsForm, type TenantCapRow } from "../../forms";
import type { CapChoices } from "../../hooks/useCapChoices";
import { agentChoices, withCurrent } from "../../pickers";
import type { ConfigEditor } from "../../useConfigEditor";
import { SelectField, TextField } from "../Field";

type Group = "tenants" | "agents";
type Props = { editor: ConfigEditor<BudgetsForm>; choices: CapChoices };

function useRows({ editor }: Pick<Props, "editor">) {
  const { form, edit, restructure } = editor;
  const setRow = (group: Group, i: number, key: keyof AgentCapRow, value: string) => {
    const rows = (form[group] as AgentCapRow[]).map((r, j) => (j === i ? { ...r, [key]: value } : r));
    edit({ ...form, [group]: rows }, `${group}.${i}.${key}`);
  };
  const removeRow = (group: Group, i: number) =>
    restructure({ ...form, [group]: (form[group] as TenantCapRow[]).filter((_, j) => j !== i) });
  return { setRow, removeRow };
}

/** The daily and monthly caps of one row, and its Remove button. */
function CapFields({
  editor,
  group,
  i,
  row,
  who,
}: Pick<Props, "editor"> & { group: Group; i: number; row: TenantCapRow; who: string }) {
  const { errorFor, id } = editor;
  const { setRow, removeRow } = useRows({ editor });
  const amount = (key: "daily_cost_cap_usd" | "monthly_cost_cap_usd", label: string) => (
    <TextField
      id={id(`${group}.${i}.${key}`)}
      label={label}
      value={row[key]}
      onChange={(v) => setRow(group, i, key, v)}
      error={errorFor(`${group}.${i}.${key}`)}
      inputMode="decimal"
      placeholder="no cap"
    />
  );
  return (
    <>
      {amount("daily_cost_cap_usd", "Daily cap")}
      {amount("monthly_cost_cap_usd", "Monthly cap")}
      <div className="ra-field ra-row-remove">
        <button
          type="button"
          className="danger small-btn"
          aria-label={`Remove ${who}`}
          onClick={() => removeRow(group, i)}
        >
          Remove
        </button>
      </div>
    </>
  );
}

export function TenantCapsFieldset({ editor, choices }: Props) {
  const { form, errorFor, id, restructure } = editor;
  const { setRow } = useRows({ editor });
  return (
    <fieldset className="ra-fieldset">
      <legend>Per tenant</legend>
      {form.tenants.length === 0 && <p className="muted">No tenant caps.</p>}
      <ul className="ra-rows">
        {form.tenants.map((row, i) => (
          <li key={row.uid} className="ra-row-card">
            <div className="ra-grid-caps">
              <SelectField
                id={id(`tenants.${i}.id`)}
                label="Tenant"
                value={row.id}
                onChange={(v) => setRow("tenants", i, "id", v)}
                options={withCurrent(choices.tenants, row.id)}
                empty="Choose a tenant…"
                error={errorFor(`tenants.${i}.id`)}
              />
              <CapFields editor={editor} group="tenants" i={i} row={row} who={`tenant caps ${i + 1}`} />
            </div>
          </li>
        ))}
      </ul>
      <div>
        <button
          type="button"
          className="secondary small-btn"
          onClick={() => restructure({ ...form, tenants: [...form.tenants, emptyTenantCaps()] })}
        >
          Add tenant cap
        </button>
      </div>
    </fieldset>
  );
}

export function AgentCapsFieldset({ editor, choices }: Props) {
  const { form, errorFor, id, restructure } = editor;
  const { setRow } = useRows({ editor });
  return (
    <fieldset className="ra-fieldset">
      <legend>Per agent</legend>
      {form.agents.length === 0 && <p className="muted">No agent caps.</p>}
      <ul className="ra-rows">
        {form.agents.map((row, i) => (
          <li key={row.uid} className="ra-row-card">
            <div className="ra-grid-caps ra-grid-caps-agent">
              <SelectField
                id={id(`agents.${i}.tenant_id`)}
                label="Tenant"
                value={row.tenant_id}
                onChange={(v) => setRow("agents", i, "tenant_id", v)}
                options={withCurrent(choices.tenants, row.tenant_id)}
                empty={choices.platform ? "Choose a tenant…" : "Your own"}
                error={errorFor(`agents.${i}.tenant_id`)}
              />
              <SelectField
                id={id(`agents.${i}.id`)}
                label="Agent"
                value={row.id}
                onChange={(v) => setRow("agents", i, "id", v)}
                options={agentChoices(choices.agents, row.tenant_id, row.id)}
                empty="Choose an agent…"
                error={errorFor(`agents.${i}.id`)}
              />
              <CapFields editor={editor} group="agents" i={i} row={row} who={`agent caps ${i + 1}`} />
            </div>
          </li>
        ))}
      </ul>
      <div>
        <button
          type="button"
          className="secondary small-btn"
          onClick={() => restructure({ ...form, agents: [...form.agents, emptyAgentCaps()] })}
        >
          Add agent cap
        </button>
      </div>
    </fieldset>
  );
}
