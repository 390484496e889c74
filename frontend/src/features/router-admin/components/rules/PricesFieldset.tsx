import { emptyPrice, type RulesForm } from "../../forms";
import type { ConfigEditor } from "../../useConfigEditor";
import { TextField } from "../Field";

type PriceKey = "model" | "input_per_mtok" | "output_per_mtok";

/** The prices of the rules editor, one row per model. */
export function PricesFieldset({ editor }: { editor: ConfigEditor<RulesForm> }) {
  const { form, errorFor, id, edit, restructure } = editor;
  const setPrice = (i: number, key: PriceKey, value: string) =>
    edit({ ...form, prices: form.prices.map((p, j) => (j === i ? { ...p, [key]: value } : p)) }, `prices.${i}.${key}`);
  const field = (i: number, key: PriceKey, label: string, value: string, extra: object) => (
    <TextField
      id={id(`prices.${i}.${key}`)}
      label={label}
      value={value}
      onChange={(v) => setPrice(i, key, v)}
      error={errorFor(`prices.${i}.${key}`)}
      {...extra}
    />
  );

  return (
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
              {field(i, "model", "Model", price.model, { list: "ra-model-options", placeholder: "provider/model" })}
              {field(i, "input_per_mtok", "Input $/Mtok", price.input_per_mtok, { inputMode: "decimal" })}
              {field(i, "output_per_mtok", "Output $/Mtok", price.output_per_mtok, { inputMode: "decimal" })}
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
  );
}
