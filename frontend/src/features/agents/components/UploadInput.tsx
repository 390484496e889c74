import { useRef, useState, type FormEvent } from "react";
import { ErrorText } from "../../../components/ui/QueryState";
import { uploadProblem, type WorkspaceQuota } from "../files";
import { useUploadInput } from "../queries";

/** Uploads one file into inputs/ (replacing one of the same name), checked against the quota first. */
export function UploadInput({ agentId, quota }: { agentId: string; quota: WorkspaceQuota | undefined }) {
  const upload = useUploadInput(agentId);
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const problem = file ? uploadProblem(file.name, file.size, quota) : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!file || problem) return;
    setDone(null);
    upload.mutate(file, {
      onSuccess: (saved) => {
        setDone(`Uploaded inputs/${saved.path}.`);
        setFile(null);
        if (input.current) input.current.value = "";
      },
    });
  };

  return (
    <form className="stack compact" onSubmit={submit} aria-label="Upload an input file">
      <div className="row">
        <input
          ref={input}
          type="file"
          aria-label="Input file"
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setDone(null);
            upload.reset();
          }}
        />
        <button type="submit" disabled={!file || !!problem || upload.isPending}>
          {upload.isPending ? "Uploading…" : "Upload to inputs/"}
        </button>
      </div>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {done && <p role="status">{done}</p>}
      <ErrorText error={upload.error} />
    </form>
  );
}
