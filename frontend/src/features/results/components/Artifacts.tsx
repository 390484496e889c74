import { useState } from "react";
import { errorMessage } from "../../../api/client";
import { useArtifactDownload } from "../queries";

/** The files the run wrote under outputs/, each downloadable with the session's token. */
export function Artifacts({ paths, runId }: { paths: string[]; runId?: string }) {
  const download = useArtifactDownload(runId);
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const start = (path: string) => {
    setProblem(null);
    setBusy(path);
    download(path)
      .catch((err: unknown) => setProblem(`Could not download ${path}: ${errorMessage(err)}`))
      .finally(() => setBusy(null));
  };
  return (
    <div className="result-artifacts">
      <h4 className="small">Files written</h4>
      <ul className="plain-list">
        {paths.map((path) => (
          <li key={path} className="row">
            <code>{path}</code>
            {runId && (
              <button
                type="button"
                className="secondary small-btn"
                disabled={busy === path}
                aria-label={`Download ${path}`}
                onClick={() => start(path)}
              >
                Download
              </button>
            )}
          </li>
        ))}
      </ul>
      {problem && (
        <p className="error small" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
