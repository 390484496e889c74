import { useQuery } from "@tanstack/react-query";
import { QueryState } from "../../../components/ui/QueryState";
import { previewText, type WorkspaceFile } from "../files";
import { fetchFile, workspaceKeys } from "../queries";

/** A workspace file shown as text (its first 64 KiB), or a word that it is not text. */
export function FileViewer({ agentId, file, onClose }: { agentId: string; file: WorkspaceFile; onClose: () => void }) {
  const content = useQuery({
    queryKey: [...workspaceKeys.files(agentId), file.folder, file.path, file.modifiedAt],
    queryFn: async () => previewText(new Uint8Array(await (await fetchFile(agentId, file)).arrayBuffer())),
  });
  const label = `${file.folder}/${file.path}`;
  return (
    <section className="stack compact file-viewer" aria-label={`Contents of ${label}`}>
      <div className="row">
        <strong>
          <code>{label}</code>
        </strong>
        <button type="button" className="secondary small-btn" onClick={onClose}>
          Close
        </button>
      </div>
      <QueryState isPending={content.isPending} error={content.error} loading="Loading the file…">
        {content.data ? (
          <>
            <pre className="payload">{content.data.text}</pre>
            {content.data.truncated && <p className="muted small">Only the first 64 KiB are shown; download it all.</p>}
          </>
        ) : (
          <p className="muted">This file is not text; download it to open it.</p>
        )}
      </QueryState>
    </section>
  );
}
