import { useMemo } from "react";
import { ErrorText } from "../../../../components/ui/QueryState";
import { budgetsDoc, budgetsForm, budgetsServerErrors, validateBudgets } from "../../forms";
import { useCapChoices } from "../../hooks/useCapChoices";
import { useSaveBudgets, type BudgetsRead } from "../../queries";
import { useConfigEditor } from "../../useConfigEditor";
import { FormErrors, TextField } from "../Field";
import { FormFooter } from "../FormFooter";
import { AgentCapsFieldset, TenantCapsFieldset } from "./CapsFieldsets";

export function BudgetsEditor({ budgets, platform = true }: { budgets: BudgetsRead; platform?: boolean }) {
  const save = useSaveBudgets();
  const choices = useCapChoices(budgets);
  // Spend changes every refresh; the caps (structurally shared by TanStack Query) rarely do.
  const { global_daily_cost_cap_usd: globalCap, tenants, agents } = budgets;
  const base = useMemo(
    () => budgetsForm({ global_daily_cost_cap_usd: globalCap, tenants, agents, spend: {} }),
    [globalCap, tenants, agents],
  );
  const editor = useConfigEditor({
    scope: "budgets",
    base,
    validate: validateBudgets,
    toDoc: budgetsDoc,
    serverErrors: budgetsServerErrors,
    save,
  });
  const { form, dirty, saved, server, clientErrors, errorFor, id, edit, submit, discard } = editor;

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
      <TenantCapsFieldset editor={editor} choices={choices} />
      <AgentCapsFieldset editor={editor} choices={choices} />

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
