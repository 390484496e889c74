import { useMemo } from "react";
import { Panel } from "../../../components/ui/Panel";
import { ErrorText, QueryState } from "../../../components/ui/QueryState";
import { useSession } from "../../auth/session";
import {
  agentCapEntries,
  budgetsDoc,
  budgetsForm,
  budgetsServerErrors,
  emptyAgentCaps,
  emptyTenantCaps,
  validateBudgets,
  type AgentCapRow,
  type TenantCapRow,
} from "../forms";
import { useRouterBudgets, useSaveBudgets, type BudgetsRead } from "../queries";
import { formatUsd } from "../usage";
import { useConfigEditor } from "../useConfigEditor";
import { FormErrors, TextField } from "./Field";
import { FormFooter } from "./FormFooter";

function cap(value: unknown): string {
  return typeof value === "number" ? formatUsd(value) : "no cap";
}

export function BudgetsView({ budgets }: { budgets: BudgetsRead }) {
  const tenants = Object.entries(budgets.tenants);
  const agents = agentCapEntries(budgets.agents);
  return (
    <div className="stack">
      <p>
        Global daily cap: <strong>{cap(budgets.global_daily_cost_cap_usd)}</strong>
      </p>
      <div className="stack compact">
        <h3 className="ra-subhead">Tenants</h3>
        {tenants.length === 0 ? (
          <p className="muted">No tenant caps.</p>
        ) : (
          <div className="ra-table-scroll">
            <table className="ra-table" aria-label="Tenant caps">
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col" className="ra-num">
                    Daily cap
                  </th>
                  <th scope="col" className="ra-num">
                    Monthly cap
                  </th>
                </tr>
              </thead>
              <tbody>
                {tenants.map(([id, caps]) => (
                  <tr key={id}>
                    <td>{id}</td>
                    <td className="ra-num">{cap(caps.daily_cost_cap_usd)}</td>
                    <td className="ra-num">{cap(caps.monthly_cost_cap_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div className="stack compact">
        <h3 className="ra-subhead">Agents</h3>
        {agents.length === 0 ? (
          <p className="muted">No agent caps.</p>
        ) : (
          <div className="ra-table-scroll">
            <table className="ra-table" aria-label="Agent caps">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Tenant</th>
                  <th scope="col" className="ra-num">
                    Daily cap
                  </th>
                  <th scope="col" className="ra-num">
                    Monthly cap
                  </th>
                </tr>
              </thead>
              <tbody>
                {agents.map(([tenant, id, caps]) => (
                  <tr key={`${tenant}/${id}`}>
                    <td>{id}</td>
                    <td>{tenant}</td>
                    <td className="ra-num">{cap(caps.daily_cost_cap_usd)}</td>
                    <td className="ra-num">{cap(caps.monthly_cost_cap_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}

type Group = "tenants" | "agents";

export function BudgetsEditor({ budgets, platform = true }: { budgets: BudgetsRead; platform?: boolean }) {
  const save = useSaveBudgets();
  // Spend changes every refresh; the caps (structurally shared by TanStack Query) rarely do.
  const { global_daily_cost_cap_usd: globalCap, tenants, agents } = budgets;
  const base = useMemo(
    () => budgetsForm({ global_daily_cost_cap_usd: globalCap, tenants, agents, spend: {} }),
    [globalCap, tenants, agents],
  );
  const { form, dirty, saved, server, clientErrors, errorFor, id, edit, restructure, submit, discard } =
    useConfigEditor({
      scope: "budgets",
      base,
      validate: validateBudgets,
      toDoc: budgetsDoc,
      serverErrors: budgetsServerErrors,
      save,
    });

  const setRow = (group: Group, i: number, key: keyof AgentCapRow, value: string) => {
    const rows = (form[group] as AgentCapRow[]).map((r, j) => (j === i ? { ...r, [key]: value } : r));
    edit({ ...form, [group]: rows }, `${group}.${i}.${key}`);
  };
  const removeRow = (group: Group, i: number) =>
    restructure({ ...form, [group]: (form[group] as TenantCapRow[]).filter((_, j) => j !== i) });

  const capFields = (group: Group, i: number, row: TenantCapRow, who: string) => (
    <>
      <TextField
        id={id(`${group}.${i}.daily_cost_cap_usd`)}
        label="Daily cap"
        value={row.daily_cost_cap_usd}
        onChange={(v) => setRow(group, i, "daily_cost_cap_usd", v)}
        error={errorFor(`${group}.${i}.daily_cost_cap_usd`)}
        inputMode="decimal"
        placeholder="no cap"
      />
      <TextField
        id={id(`${group}.${i}.monthly_cost_cap_usd`)}
        label="Monthly cap"
        value={row.monthly_cost_cap_usd}
        onChange={(v) => setRow(group, i, "monthly_cost_cap_usd", v)}
        error={errorFor(`${group}.${i}.monthly_cost_cap_usd`)}
        inputMode="decimal"
        placeholder="no cap"
      />
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

  return (
    <form className="stack" onSubmit={submit} aria-label="Budgets" noValidate>
      <FormErrors messages={server?.general ?? []} />
      {save.isError && !server && <ErrorText error={save.error} />}
      <p className="muted small">
        Caps are in USD. Leave a cap empty for no cap; a cap of 0 allows only free (local) calls.
      </p>

      <TextField
        id={id("global_daily_cost_cap_usd")}
        label="Global daily cap (USD, all tenants)"
        value={form.global_daily_cost_cap_usd}
        onChange={(v) => edit({ ...form, global_daily_cost_cap_usd: v }, "global_daily_cost_cap_usd")}
        error={errorFor("global_daily_cost_cap_usd")}
        inputMode="decimal"
        placeholder="no cap"
        disabled={!platform}
        hint={platform ? undefined : "Platform-wide: only a platform admin (a token without a tenant) can change it."}
      />

      <fieldset className="ra-fieldset">
        <legend>Per tenant</legend>
        {form.tenants.length === 0 && <p className="muted">No tenant caps.</p>}
        <ul className="ra-rows">
          {form.tenants.map((row, i) => (
            <li key={row.uid} className="ra-row-card">
              <div className="ra-grid-caps">
                <TextField
                  id={id(`tenants.${i}.id`)}
                  label="Tenant id"
                  value={row.id}
                  onChange={(v) => setRow("tenants", i, "id", v)}
                  error={errorFor(`tenants.${i}.id`)}
                />
                {capFields("tenants", i, row, `tenant caps ${i + 1}`)}
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

      <fieldset className="ra-fieldset">
        <legend>Per agent</legend>
        {form.agents.length === 0 && <p className="muted">No agent caps.</p>}
        <ul className="ra-rows">
          {form.agents.map((row, i) => (
            <li key={row.uid} className="ra-row-card">
              <div className="ra-grid-caps ra-grid-caps-agent">
                <TextField
                  id={id(`agents.${i}.id`)}
                  label="Agent id"
                  value={row.id}
                  onChange={(v) => setRow("agents", i, "id", v)}
                  error={errorFor(`agents.${i}.id`)}
                />
                <TextField
                  id={id(`agents.${i}.tenant_id`)}
                  label="Tenant (optional)"
                  value={row.tenant_id}
                  onChange={(v) => setRow("agents", i, "tenant_id", v)}
                  error={errorFor(`agents.${i}.tenant_id`)}
                  placeholder="any"
                />
                {capFields("agents", i, row, `agent caps ${i + 1}`)}
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

      <FormFooter
        invalidCount={Object.keys(clientErrors).length}
        dirty={dirty}
        saved={saved}
        saving={save.isPending}
        saveLabel="Save budgets"
        savedMessage="Budgets saved."
        onDiscard={discard}
      />
    </form>
  );
}

/**
 * The caps: an editor for admins, read-only for everyone else. A tenant's admin sees and saves only
 * its own tenant's caps (the server keeps every other tenant's as they are) and cannot change the
 * platform-wide cap.
 */
export function BudgetsPanel() {
  const budgets = useRouterBudgets();
  const { principal, can } = useSession();
  const canEdit = can("router_admin");
  return (
    <Panel title="Budgets" id="router-budgets" className="ra-area-budgets">
      <QueryState
        isPending={budgets.isPending}
        error={budgets.error}
        onRetry={() => void budgets.refetch()}
        loading="Loading budgets…"
      >
        {budgets.data &&
          (canEdit ? (
            <BudgetsEditor budgets={budgets.data} platform={principal.platform_admin} />
          ) : (
            <>
              <p className="muted small">Only admins can change the budgets.</p>
              <BudgetsView budgets={budgets.data} />
            </>
          ))}
      </QueryState>
    </Panel>
  );
}
