import type { UseMutationResult } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { fieldId } from "./components/Field";
import { withoutField, type FieldErrors, type ServerErrors } from "./forms";

interface Options<Form, Doc> {
  /** Which editor: prefixes the field ids (`fieldId`). */
  scope: string;
  /** The saved configuration as a form; edits are a draft on top of it until saved or discarded. */
  base: Form;
  validate: (form: Form) => FieldErrors;
  toDoc: (form: Form) => Doc;
  /** A 422's message mapped back to the fields of the form that was sent. */
  serverErrors: (message: string, sent: Form) => ServerErrors;
  save: UseMutationResult<unknown, Error, Doc>;
}

/**
 * The state both router editors share: a draft over the saved configuration, checks before
 * saving (shown once the user tried to save), server errors placed on their fields until the
 * field changes, and "saved" feedback.
 */
export function useConfigEditor<Form, Doc>({ scope, base, validate, toDoc, serverErrors, save }: Options<Form, Doc>) {
  const [draft, setDraft] = useState<Form | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const [server, setServer] = useState<ServerErrors | null>(null);
  const [saved, setSaved] = useState(false);

  const form = draft ?? base;
  const clientErrors = useMemo(() => (submitted ? validate(form) : {}), [submitted, form, validate]);
  const errorFor = (path: string) => clientErrors[path] ?? server?.fields[path];
  const id = (path: string) => fieldId(scope, path);

  /** A field's value changed: its own server error no longer applies. */
  const edit = (next: Form, path: string) => {
    setDraft(next);
    setSaved(false);
    if (server) setServer({ ...server, fields: withoutField(server.fields, path) });
  };
  /** Rows were added, removed or moved: server errors name rows by position, so they are dropped. */
  const restructure = (next: Form) => {
    setDraft(next);
    setSaved(false);
    if (server) setServer({ ...server, fields: {} });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setSaved(false);
    const first = Object.keys(validate(form))[0];
    if (first) {
      document.getElementById(id(first))?.focus();
      return;
    }
    setServer(null);
    const sent = form;
    save.mutate(toDoc(sent), {
      onSuccess: () => {
        setDraft(null);
        setSubmitted(false);
        setSaved(true);
      },
      onError: (err) =>
        setServer(err instanceof ApiError && err.status === 422 ? serverErrors(err.message, sent) : null),
    });
  };

  const discard = () => {
    setDraft(null);
    setSubmitted(false);
    setServer(null);
    setSaved(false);
    save.reset();
  };

  return {
    form,
    dirty: draft !== null,
    submitted,
    saved,
    server,
    clientErrors,
    errorFor,
    id,
    edit,
    restructure,
    submit,
    discard,
  };
}

/** What a part of an editor's form needs to edit its fields. */
export type ConfigEditor<Form> = Pick<
  ReturnType<typeof useConfigEditor<Form, unknown>>,
  "form" | "errorFor" | "id" | "edit" | "restructure"
>;
