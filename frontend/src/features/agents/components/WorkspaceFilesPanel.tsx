import { useState } from "react";
import { errorMessage } from "../../../api/client";
import { Panel } from "../../../components/ui/Panel";
import { ErrorText, QueryState } from "../../../components/ui/QueryState";
import { saveBlob } from "../../../lib/download";
import { clockTime } from "../../../lib/format";
import { formatBytes, type WorkspaceFile } from "../files";
import { fetchFile, useAgentFiles } from "../queries";
import { FileViewer } from "./FileViewer";
import { UploadInput } from "./UploadInput";

/** The workspace's inputs/ and outputs/: view, download and (operators) upload an input. */
export function WorkspaceFilesPanel({ agentId, canOperate }: { agentId: string; canOperate: boolean }) {
  const files = useAgentFiles(agentId);
  const [viewing, setViewing] = useState<WorkspaceFile | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const quota = files.data?.quota;

  const download = (file: WorkspaceFile) => {
    setDownloadError(null);
    fetchFile(agentId, file).then(
      (blob) => saveBlob(blob, file.path.split("/").pop() ?? file.path),
      (err: unknown) => setDownloadError(errorMessage(err)),
    );
  };

  return (
    <Panel title="Workspace files" id="agent-files">
      {quota && (
        <p className="muted small">
          {formatBytes(quota.usedBytes)} of {formatBytes(quota.quotaBytes)} used · {quota.usedFiles} of{" "}
          {quota.quotaFiles} entries
        </p>
      )}
      {canOperate && <UploadInput agentId={agentId} quota={quota} />}
      <QueryState
        isPending={files.isPending}
        error={files.error}
        onRetry={() => void files.refetch()}
        isEmpty={files.data?.files.length === 0}
        empty="No files in inputs/ or outputs/ yet."
        loading="Loading files…"
      >
        <table className="ra-table" aria-label="Workspace files">
          <thead>
            <tr>
              <th>File</th>
              <th>Size</th>
              <th>Changed</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {files.data?.files.map((file) => (
              <tr key={`${file.folder}/${file.path}`}>
                <td>
                  <code>
                    {file.folder}/{file.path}
                  </code>
                </td>
                <td>{formatBytes(file.size)}</td>
                <td>{clockTime(file.modifiedAt)}</td>
                <td className="row">
                  <button type="button" className="secondary small-btn" onClick={() => setViewing(file)}>
                    View
                  </button>
                  <button type="button" className="secondary small-btn" onClick={() => download(file)}>
                    Download
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {files.data?.truncated && <p className="muted small">Only the first 1000 files of a folder are listed.</p>}
      </QueryState>
      {downloadError && <ErrorText error={new Error(downloadError)} />}
      {viewing && <FileViewer agentId={agentId} file={viewing} onClose={() => setViewing(null)} />}
    </Panel>
  );
}
