import { useCallback, useMemo } from "react";
import { ErrorText } from "../../../../components/ui/QueryState";
import { LOCAL, rulesDoc, rulesForm, rulesServerErrors, validateRules, type RulesForm } from "../../forms";
import { useSaveRules, type RulesRead } from "../../queries";
import { useConfigEditor } from "../../useConfigEditor";
import { FormErrors, TextField } from "../Field";
import { FormFooter } from "../FormFooter";
import { PricesFieldset } from "./PricesFieldset";
import { RoutesFieldset } from "./RoutesFieldset";
import { FallbackBadge, ProvidersNote } from "./RulesView";

/** The rules as a form: checked as typed, saved whole (PUT), server errors placed on their fields. */
export function RulesEditor({ rules }: { rules: RulesRead }) {
  const save = useSaveRules();
  const base = useMemo(() => rulesForm(rules), [rules]);
  const providers = useMemo(() => Object.keys(rules.providers), [rules.providers]);
  const validate = useCallback((form: RulesForm) => validateRules(form, providers), [providers]);
  const editor = useConfigEditor({
    scope: "rules",
    base,
    validate,
    toDoc: rulesDoc,
    serverErrors: rulesServerErrors,
    save,
  });
  const { form, dirty, saved, server, clientErrors, errorFor, id, edit, submit, discard } = editor;
  const modelOptions = useMemo(
    () => [LOCAL, ...Object.keys(rules.prices), ...providers.filter((p) => p !== LOCAL).map((p) => `${p}/`)],
    [rules.prices, providers],
  );

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
      <FallbackBadge model={form.default_model} rules={rules} />
      <RoutesFieldset editor={editor} rules={rules} />
      <PricesFieldset editor={editor} />

      <ProvidersNote providers={rules.providers} />
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
