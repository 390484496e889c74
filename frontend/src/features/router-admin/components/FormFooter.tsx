interface Props {
  /** Fields the last save attempt found invalid (client-side checks). */
  invalidCount: number;
  /** The draft differs from the saved configuration. */
  dirty: boolean;
  /** The last save succeeded and nothing changed since. */
  saved: boolean;
  saving: boolean;
  /** "Save rules", "Save budgets". */
  saveLabel: string;
  /** "Rules saved.", "Budgets saved.". */
  savedMessage: string;
  onDiscard: () => void;
}

/** The end of a Router Admin form: what blocks saving, Save, Discard changes, and where the draft stands. */
export function FormFooter({ invalidCount, dirty, saved, saving, saveLabel, savedMessage, onDiscard }: Props) {
  return (
    <>
      {invalidCount > 0 && (
        <p className="error" role="alert">
          Fix the {invalidCount === 1 ? "highlighted field" : `${invalidCount} highlighted fields`} before saving.
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={saving}>
          {saving ? "Saving…" : saveLabel}
        </button>
        {dirty && (
          <button type="button" className="secondary" onClick={onDiscard} disabled={saving}>
            Discard changes
          </button>
        )}
        {dirty && !saving && <span className="muted small">Unsaved changes</span>}
        {saved && (
          <span className="ra-saved small" role="status">
            {savedMessage}
          </span>
        )}
      </div>
    </>
  );
}
