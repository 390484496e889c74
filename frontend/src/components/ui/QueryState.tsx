import type { ReactNode } from "react";
import { errorMessage } from "../../api/client";

/** Loading / error / empty for a query, in words; renders children only when there is data. */
export function QueryState({
  isPending,
  error,
  isEmpty,
  empty,
  loading = "Loading…",
  onRetry,
  children,
}: {
  isPending: boolean;
  error: unknown;
  isEmpty?: boolean;
  empty?: ReactNode;
  loading?: string;
  onRetry?: () => void;
  children: ReactNode;
}) {
  if (isPending)
    return (
      <p className="muted" role="status">
        {loading}
      </p>
    );
  if (error) return <ErrorText error={error} onRetry={onRetry} />;
  if (isEmpty) return <p className="muted">{empty ?? "Nothing here yet."}</p>;
  return <>{children}</>;
}

export function ErrorText({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {errorMessage(error)}
      {onRetry && (
        <>
          {" "}
          <button type="button" className="link" onClick={onRetry}>
            Retry
          </button>
        </>
      )}
    </p>
  );
}
