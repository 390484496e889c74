import { emptyRoute, type RulesForm } from "../../forms";
import type { RulesRead } from "../../queries";
import type { ConfigEditor } from "../../useConfigEditor";
import { TextField } from "../Field";
import { FallbackBadge } from "./RulesView";

type RouteKey = "match" | "model" | "max_tokens";

export function move<T>(list: T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length) return list;
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
}

/** The routes of the rules editor: add, remove, reorder, edit. */
export function RoutesFieldset({ editor, rules }: { editor: ConfigEditor<RulesForm>; rules: RulesRead }) {
  const { form, errorFor, id, edit, restructure } = editor;
  const setRoute = (i: number, key: RouteKey, value: string) =>
    edit({ ...form, routes: form.routes.map((r, j) => (j === i ? { ...r, [key]: value } : r)) }, `routes.${i}.${key}`);
  const moveButton = (i: number, to: number, label: string, arrow: string) => (
    <button
      type="button"
      className="secondary small-btn"
      aria-label={label}
      disabled={to < 0 || to >= form.routes.length}
      onClick={() => restructure({ ...form, routes: move(form.routes, i, to) })}
    >
      {arrow}
    </button>
  );

  return (
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
              <strong>
                Route {i + 1} <FallbackBadge model={route.model} rules={rules} />
              </strong>
              <div className="row">
                {moveButton(i, i - 1, `Move route ${i + 1} up`, "↑")}
                {moveButton(i, i + 1, `Move route ${i + 1} down`, "↓")}
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
  );
}
