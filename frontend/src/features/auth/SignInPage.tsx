import { useState, type FormEvent } from "react";
import { normalizePastedToken } from "../../lib/session";

interface Props {
  notice: string | null;
  onSignIn: (token: string) => void;
}

export function SignInPage({ notice, onSignIn }: Props) {
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = normalizePastedToken(value);
    if (!token) {
      setProblem("Paste a token or the whole login link.");
      return;
    }
    onSignIn(token);
  };

  return (
    <main className="signin">
      <form className="panel signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Talkative</h1>
        {notice && (
          <p role="alert" className="notice">
            {notice}
          </p>
        )}
        <p className="muted">
          Open the login link printed when the server starts (<code>http://…/#token=…</code>), or paste a token or the
          link here. <code>talkative token --role viewer --tenant …</code> makes a new one.
        </p>
        <label htmlFor="token">Access token</label>
        <textarea
          id="token"
          rows={4}
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setProblem(null);
          }}
          placeholder="eyJhbGciOi…"
          autoComplete="off"
          spellCheck={false}
        />
        {problem && <p className="error">{problem}</p>}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
