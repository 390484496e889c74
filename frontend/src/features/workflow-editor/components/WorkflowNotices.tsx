/** A newer server version arrived while the draft (based on `draftVersion`) has unsaved changes. */
export function NewerVersionNotice({
  serverVersion,
  draftVersion,
  onLoad,
}: {
  serverVersion: number;
  draftVersion: number | null;
  onLoad: () => void;
}) {
  return (
    <div className="notice row spread" role="alert">
      <span>
        Version {serverVersion} arrived while you were editing; your changes are based on version {draftVersion}. Saving
        makes yours the newest version.
      </span>
      <button type="button" className="secondary" onClick={onLoad}>
        Load version {serverVersion} (drop my changes)
      </button>
    </div>
  );
}

/** A past version is shown instead of the draft (`listed`: it is still in the history). */
export function ViewingVersionNotice({
  version,
  listed,
  onBack,
}: {
  version: number;
  listed: boolean;
  onBack: () => void;
}) {
  return (
    <div className="notice row spread wf-viewing" role="status">
      <span>{listed ? `Viewing version ${version} (read-only).` : `Version ${version} is no longer listed.`}</span>
      <button type="button" className="secondary" onClick={onBack}>
        Back to current
      </button>
    </div>
  );
}
