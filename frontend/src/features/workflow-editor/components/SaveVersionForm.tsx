import { useState, type FormEvent } from "react";
import { ErrorText } from "../../../components/ui/QueryState";

interface Props {
  dirty: boolean;
  saving: boolean;
  /** Problems found before sending (duplicate ids, dangling connections…), in words. */
  problems: string[];
  error: unknown;
  onSave: (note: string, saved: () => void) => void;
  onDiscard: () => void;
}

export function SaveVersionForm({ dirty, saving, problems, error, onSave, onDiscard }: Props) {
  const [note, setNote] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!dirty || saving || problems.length) return;
    onSave(note, () => setNote(""));
  };
  return (
    <form className="wf-tool" onSubmit={submit} aria-label="Save a new version">
      <input
        aria-label="Version note"
        placeholder="Note (optional)"
        value={note}
        maxLength={500}
        onChange={(e) => setNote(e.target.value)}
      />
      <button type="submit" disabled={!dirty || saving || problems.length > 0}>
        {saving ? "Saving…" : "Save version"}
      </button>
      {dirty && (
        <button type="button" className="secondary" onClick={onDiscard} disabled={saving}>
          Discard changes
        </button>
      )}
      {problems.length > 0 && (
        <ul className="error small wf-problems" role="alert" aria-label="Problems to fix before saving">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <ErrorText error={error} />
    </form>
  );
}
