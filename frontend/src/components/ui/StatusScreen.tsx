import type { ReactNode } from "react";

/** A whole-page message (signing in, fatal error): never a blank screen. */
export function StatusScreen({ title, detail, children }: { title: string; detail?: string; children?: ReactNode }) {
  return (
    <main className="signin">
      <div className="panel signin-card" role="status">
        <h1>{title}</h1>
        {detail && <p className="error">{detail}</p>}
        {children && <div className="row">{children}</div>}
      </div>
    </main>
  );
}
