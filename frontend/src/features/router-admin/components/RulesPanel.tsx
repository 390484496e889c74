import { useCallback, useMemo } from "react";
import { Panel } from "../../../components/ui/Panel";
import { ErrorText, QueryState } from "../../../components/ui/QueryState";
import { useCan, useSession } from "../../auth/session";
import {
  emptyPrice,
  emptyRoute,
  LOCAL,
  rulesDoc,
  rulesForm,
  rulesServerErrors,
  validateRules,
  type RulesForm,
} from "../forms";
import { useRouterRules, useSaveRules, type RulesRead } from "../queries";
import { useConfigEditor } from "../useConfigEditor";
import { FormErrors, TextField } from "./Field";
import { FormFooter } from "./FormFooter";

function Providers({ providers }: { providers: Record<string, boolean> }) {
  const names = Object.keys(providers).sort();
  if (names.length === 0) return null;
  return (
    <p className="muted small">
      Providers:{" "}
      {names.map((name, i) => (
        <span key={name}>
          {i > 0 && ", "}
          <code>{name}</code> {providers[name] ? "(ready)" : "(not configured: its calls fall back to local)"}
        </span>
      ))}
    </p>
  );
}

export function RulesView({ rules }: { rules: RulesRead }) {
  const prices = Object.entries(rules.prices);
  return (
    <div className="stack">
      <p>
        Default model: <code>{rules.default_model}</code>
      </p>
      <div className="stack compact">
        <h3 className="ra-subhead">Routes (first match wins)</h3>
        {rules.routes.length === 0 ? (
          <p className="muted">No routes: every message goes to the default model.</p>
        ) : (
          <div className="ra-table-scroll">
            <table className="ra-table" aria-label="Routes">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Pattern</th>
                  <th scope="col">Model</th>
                  <th scope="col" className="ra-num">
                    Max tokens
                  </th>
                </tr>
              </thead>
              <tbody>
                {rules.routes.map((r, i) => (
                  <tr key={i}>
                    <td>{i + 1}</td>
                    <td>
                      <code>{String(r.match ?? "")}</code>
                    </td>
                    <td>
                      <code>{String(r.model ?? "")}</code>
                    </td>
                    <td className="ra-num">{String(r.max_tokens ?? "")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div className="stack compact">
        <h3 className="ra-subhead">Prices (USD per million tokens)</h3>
        {prices.length === 0 ? (
          <p className="muted">No prices: every call costs nothing.</p>
        ) : (
          <div className="ra-table-scroll">
            <table className="ra-table" aria-label="Prices">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col" className="ra-num">
                    Input
                  </th>
                  <th scope="col" className="ra-num">
                    Output
                  </th>
                </tr>
              </thead>
              <tbody>
                {prices.map(([model, p]) => (
                  <tr key={model}>
                    <td>
                      <code>{model}</code>
                    </td>
                    <td className="ra-num">{p.input_per_mtok ?? "—"}</td>
                    <td className="ra-num">{p.output_per_mtok ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <Providers providers={rules.providers} />
    </div>
  );
}

function move<T>(list: T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length) return list;
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
}

export function RulesEditor({ rules }: { rules: RulesRead }) {
  const save = useSaveRules();
  const base = useMemo(() => rulesForm(rules), [rules]);
  const providers = useMemo(() => Object.keys(rules.providers), [rules.providers]);
  const validate = useCallback((form: RulesForm) => validateRules(form, providers), [providers]);
  const { form, dirty, saved, server, clientErrors, errorFor, id, edit, restructure, submit, discard } =
    useConfigEditor({ scope: "rules", base, validate, toDoc: rulesDoc, serverErrors: rulesServerErrors, save });
  const modelOptions = useMemo(
    () => [LOCAL, ...Object.keys(rules.prices), ...providers.filter((p) => p !== LOCAL).map((p) => `${p}/`)],
    [rules.prices, providers],
  );

  const setRoute = (i: number, key: "match" | "model" | "max_tokens", value: string) =>
    edit({ ...form, routes: form.routes.map((r, j) => (j === i ? { ...r, [key]: value } : r)) }, `routes.${i}.${key}`);
  const setPrice = (i: number, key: "model" | "input_per_mtok" | "output_per_mtok", value: string) =>
    edit({ ...form, prices: form.prices.map((p, j) => (j === i ? { ...p, [key]: value } : p)) }, `prices.${i}.${key}`);

  return (
    <form className="stack" onSubmit={submit} aria-label="Routing rules" noValidate>
      <FormErrors messages={server?.general ?? []} />
      {save.isError && !server && <ErrorText error={save.error} />}
      <datalist id="ra-model-options">
        {modelOptions.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>

      <TextField
        id={id("default_model")}
        label="Default model"
        value={form.default_model}
        onChange={(v) => edit({ ...form, default_model: v }, "default_model")}
        error={errorFor("default_model")}
        list="ra-model-options"
        placeholder="local or provider/model"
        hint="Answers every message no route matches."
      />

      <fieldset className="ra-fieldset">
        <legend>Routes (first match wins)</legend>
        {errorFor("routes") && (
          <p className="error small" role="alert">
            {errorFor("routes")}
          </p>
        )}
        {form.routes.length === 0 && <p className="muted">No routes: every message goes to the default model.</p>}
        <ol className="ra-rows">
          {form.routes.map((route, i) => (
            <li key={route.uid} className="ra-row-card">
              <div className="row spread">
                <strong>Route {i + 1}</strong>
                <div className="row">
                  <button
                    type="button"
                    className="secondary small-btn"
                    aria-label={`Move route ${i + 1} up`}
                    disabled={i === 0}
                    onClick={() => restructure({ ...form, routes: move(form.routes, i, i - 1) })}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className="secondary small-btn"
                    aria-label={`Move route ${i + 1} down`}
                    disabled={i === form.routes.length - 1}
                    onClick={() => restructure({ ...form, routes: move(form.routes, i, i + 1) })}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    className="danger small-btn"
                    aria-label={`Remove route ${i + 1}`}
                    onClick={() => restructure({ ...form, routes: form.routes.filter((_, j) => j !== i) })}
                  >
                    Remove
                  </button>
                </div>
              </div>
              <div className="ra-grid-3">
                <TextField
                  id={id(`routes.${i}.match`)}
                  label="Pattern (regex)"
                  value={route.match}
                  onChange={(v) => setRoute(i, "match", v)}
                  error={errorFor(`routes.${i}.match`)}
                  placeholder="invoice|receipt"
                />
                <TextField
                  id={id(`routes.${i}.model`)}
                  label="Model"
                  value={route.model}
                  onChange={(v) => setRoute(i, "model", v)}
                  error={errorFor(`routes.${i}.model`)}
                  list="ra-model-options"
                  placeholder="provider/model"
                />
                <TextField
                  id={id(`routes.${i}.max_tokens`)}
                  label="Max tokens"
                  value={route.max_tokens}
                  onChange={(v) => setRoute(i, "max_tokens", v)}
                  error={errorFor(`routes.${i}.max_tokens`)}
                  inputMode="numeric"
                />
              </div>
            </li>
          ))}
        </ol>
        <div>
          <button
            type="button"
            className="secondary small-btn"
            onClick={() => restructure({ ...form, routes: [...form.routes, emptyRoute()] })}
          >
            Add route
          </button>
        </div>
      </fieldset>

      <fieldset className="ra-fieldset">
        <legend>Prices (USD per million tokens)</legend>
        {errorFor("prices") && (
          <p className="error small" role="alert">
            {errorFor("prices")}
          </p>
        )}
        {form.prices.length === 0 && <p className="muted">No prices: every call costs nothing.</p>}
        <ul className="ra-rows">
          {form.prices.map((price, i) => (
            <li key={price.uid} className="ra-row-card ra-row-inline">
              <div className="ra-grid-3">
                <TextField
                  id={id(`prices.${i}.model`)}
                  label="Model"
                  value={price.model}
                  onChange={(v) => setPrice(i, "model", v)}
                  error={errorFor(`prices.${i}.model`)}
                  list="ra-model-options"
                  placeholder="provider/model"
                />
                <TextField
                  id={id(`prices.${i}.input_per_mtok`)}
                  label="Input $/Mtok"
                  value={price.input_per_mtok}
                  onChange={(v) => setPrice(i, "input_per_mtok", v)}
                  error={errorFor(`prices.${i}.input_per_mtok`)}
                  inputMode="decimal"
                />
                <TextField
                  id={id(`prices.${i}.output_per_mtok`)}
                  label="Output $/Mtok"
                  value={price.output_per_mtok}
                  onChange={(v) => setPrice(i, "output_per_mtok", v)}
                  error={errorFor(`prices.${i}.output_per_mtok`)}
                  inputMode="decimal"
                />
              </div>
              <button
                type="button"
                className="danger small-btn"
                aria-label={`Remove price ${i + 1}`}
                onClick={() => restructure({ ...form, prices: form.prices.filter((_, j) => j !== i) })}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
        <div>
          <button
            type="button"
            className="secondary small-btn"
            onClick={() => restructure({ ...form, prices: [...form.prices, emptyPrice()] })}
          >
            Add price
          </button>
        </div>
      </fieldset>

      <Providers providers={rules.providers} />
      <FormFooter
        invalidCount={Object.keys(clientErrors).length}
        dirty={dirty}
        saved={saved}
        saving={save.isPending}
        saveLabel="Save rules"
        savedMessage="Rules saved."
        onDiscard={discard}
      />
    </form>
  );
}

/** The routing rules: an editor for platform admins (they route every tenant's calls), read-only otherwise. */
export function RulesPanel() {
  const rules = useRouterRules();
  const { principal } = useSession();
  const isRouterAdmin = useCan("router_admin");
  const canEdit = isRouterAdmin && principal.platform_admin;
  return (
    <Panel title="Routing rules" id="router-rules" className="ra-area-rules">
      <QueryState
        isPending={rules.isPending}
        error={rules.error}
        onRetry={() => void rules.refetch()}
        loading="Loading rules…"
      >
        {rules.data &&
          (canEdit ? (
            <RulesEditor rules={rules.data} />
          ) : (
            <>
              <p className="muted small">
                {isRouterAdmin
                  ? "Routing rules cover every tenant, so only a platform admin (a token without a tenant) can change them."
                  : "Only admins can change the routing rules."}
              </p>
              <RulesView rules={rules.data} />
            </>
          ))}
      </QueryState>
    </Panel>
  );
}
