interface Paging {
  canLoadOlder: boolean;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadOlder: () => void;
  retry: () => void;
}

/** "Load older" above a list that pages backwards (scrolling to the top does the same). */
export function OlderControl({ paging, what }: { paging: Paging; what: string }) {
  return (
    <div className="older-control small">
      {paging.hasMore && (
        <button type="button" className="secondary" disabled={!paging.canLoadOlder} onClick={paging.loadOlder}>
          {paging.loading ? `Loading older ${what}…` : `Load older ${what}`}
        </button>
      )}
      {paging.error && (
        <span className="error" role="alert">
          {paging.error}{" "}
          <button type="button" className="secondary" onClick={paging.retry}>
            Try again
          </button>
        </span>
      )}
    </div>
  );
}
