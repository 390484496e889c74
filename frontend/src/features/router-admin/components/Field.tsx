import type { ReactNode } from "react";

/** Form field paths ("routes.0.match") as element ids. */
export function fieldId(form: string, path: string): string {
  return `${form}-${path.replace(/[^\w-]/g, "-")}`;
}

/** A labelled input with its error in words right under it. */
export function TextField({
  id,
  label,
  value,
  onChange,
  error,
  placeholder,
  inputMode,
  list,
  hint,
  disabled,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  placeholder?: string;
  inputMode?: "decimal" | "numeric" | "text";
  list?: string;
  hint?: ReactNode;
  disabled?: boolean;
}) {
  const errorId = `${id}-error`;
  return (
    <div className={`ra-field${error ? " ra-invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        inputMode={inputMode}
        list={list}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        autoComplete="off"
        spellCheck={false}
      />
      {hint && !error && <span className="muted small">{hint}</span>}
      {error && (
        <span id={errorId} className="error small" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** A labelled select with its error in words right under it; `empty` is the label of "none chosen". */
export function SelectField({
  id,
  label,
  value,
  onChange,
  options,
  empty,
  error,
  disabled,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: readonly { value: string; label: string }[];
  empty: string;
  error?: string;
  disabled?: boolean;
}) {
  const errorId = `${id}-error`;
  return (
    <div className={`ra-field${error ? " ra-invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
      >
        <option value="">{empty}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error && (
        <span id={errorId} className="error small" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** Errors that name no field: shown above the form. */
export function FormErrors({ messages }: { messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <div className="error ra-form-errors" role="alert">
      {messages.length === 1 ? (
        <p>{messages[0]}</p>
      ) : (
        <ul>
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
