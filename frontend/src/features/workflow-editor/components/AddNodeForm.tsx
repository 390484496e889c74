import { useState, type FormEvent } from "react";
import { checkName, MAX_NAME_CHARS } from "../graph";

export function AddNodeForm({ onAdd }: { onAdd: (name: string) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const checked = checkName(name);
    if ("error" in checked) {
      setError(checked.error);
      return;
    }
    setError(null);
    setName("");
    onAdd(checked.name);
  };

  return (
    <form className="wf-tool" onSubmit={submit} aria-label="Add a node">
      <input
        aria-label="New node name"
        placeholder="New node name"
        value={name}
        maxLength={MAX_NAME_CHARS}
        onChange={(e) => setName(e.target.value)}
      />
      <button type="submit" className="secondary">
        Add node
      </button>
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
