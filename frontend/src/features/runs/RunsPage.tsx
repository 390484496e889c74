import { useCallback, useMemo } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ErrorText, QueryState } from "../../components/ui/QueryState";
import { RunFilterBar } from "./components/RunFilterBar";
import { RunRow } from "./components/RunRow";
import { describeFilters, filtersFromParams, filtersToParams, NO_FILTERS, type RunFilters } from "./filters";
import { useRunList } from "./queries";

/** `/runs`: every run, newest first, filtered by what the URL says, older runs a page at a time. */
export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  const setFilters = useCallback(
    (next: RunFilters) => setParams(filtersToParams(next), { replace: true }),
    [setParams],
  );
  const runs = useRunList(filters);
  const described = describeFilters(filters);

  return (
    <div className="runs-page stack">
      <header className="row spread">
        <h1>Runs</h1>
        <Link to="/" className="small">
          ← Mission Control
        </Link>
      </header>
      <section className="panel">
        <div className="panel-body">
          <RunFilterBar filters={filters} onChange={setFilters} />
          {described && (
            <p className="small muted">
              Showing runs of {described}.{" "}
              <button type="button" className="link" onClick={() => setFilters(NO_FILTERS)}>
                Clear filters
              </button>
            </p>
          )}
          <QueryState
            isPending={runs.isPending}
            error={runs.error && !runs.data ? runs.error : null}
            onRetry={() => void runs.refetch()}
            isEmpty={runs.data?.length === 0}
            empty={described ? `No runs match: ${described}.` : "No runs yet: a message to an agent starts one."}
            loading="Loading runs…"
          >
            <ul className="plain run-list" aria-label="Runs">
              {runs.data?.map((run) => (
                <RunRow key={run.run_id} run={run} />
              ))}
            </ul>
            <p className="row small">
              <span className="muted" role="status">
                {runs.data?.length ?? 0} {runs.data?.length === 1 ? "run" : "runs"} shown
                {runs.hasNextPage ? "; older ones exist" : runs.data?.length ? "; that is all" : ""}
              </span>
              {runs.hasNextPage && (
                <button
                  type="button"
                  className="secondary small-btn"
                  disabled={runs.isFetchingNextPage}
                  onClick={() => void runs.fetchNextPage()}
                >
                  {runs.isFetchingNextPage ? "Loading…" : "Older runs"}
                </button>
              )}
            </p>
            {runs.data && <ErrorText error={runs.error} onRetry={() => void runs.refetch()} />}
          </QueryState>
        </div>
      </section>
    </div>
  );
}
