import { useState, type JSX } from "react";
import { errorMessage } from "../../api/client";
import { Artifacts } from "./components/Artifacts";
import { BookkeepingResult } from "./components/BookkeepingResult";
import { GenericResult } from "./components/GenericResult";
import { GitWatcherResult } from "./components/GitWatcherResult";
import { MailTriageResult } from "./components/MailTriageResult";
import { isObject, readResult, rendererFor, withReport } from "./envelope";
import { useRunReport } from "./queries";

/**
 * A finished skill's result, readable: its summary sentence, a view of its report (a shipped
 * skill's own, or a generic one), the files it wrote, and the raw JSON behind a toggle.
 * `result` may be a TOOL_RUN_FINISHED payload, a step's result, a report envelope or plain data.
 */
export function ResultView(props: { skill: string; result: unknown; runId?: string }): JSX.Element {
  const { skill, result, runId } = props;
  const given = readResult(result);
  // A step's result keeps its summary and files; its report is in the run's history.
  const stepOfRun = !given.hasReport && isObject(result) && "exit_code" in result;
  const found = useRunReport(runId, skill, result, stepOfRun);
  const read = found.data ? withReport(given, found.data) : given;
  const [raw, setRaw] = useState(false);
  const renderer = rendererFor(skill, read.data);
  const data = isObject(read.data) ? read.data : {};
  const hasData = read.data !== null && read.data !== undefined;
  return (
    <section className="result-view" data-renderer={renderer} aria-label={`${skill} result`}>
      {read.summary && <p className="result-summary">{read.summary}</p>}
      {read.ok === false && (
        <p className="error">
          {skill} failed{read.error ? `: ${read.error}` : "."}
        </p>
      )}
      {found.isFetching && !found.data && <p className="muted small">Loading the report…</p>}
      {found.error && <p className="error small">The report could not be loaded: {errorMessage(found.error)}</p>}
      {hasData &&
        (renderer === "mail-triage" ? (
          <MailTriageResult data={data} />
        ) : renderer === "monthly-bookkeeping" ? (
          <BookkeepingResult data={data} />
        ) : renderer === "git-watcher" ? (
          <GitWatcherResult data={data} />
        ) : (
          <GenericResult value={read.data} />
        ))}
      {read.artifacts.length > 0 && <Artifacts paths={read.artifacts} runId={runId} />}
      <button type="button" className="secondary small-btn" aria-expanded={raw} onClick={() => setRaw((r) => !r)}>
        {raw ? "Hide raw JSON" : "Raw JSON"}
      </button>
      {raw && (
        <pre className="result-raw" tabIndex={0} aria-label="Raw JSON">
          {JSON.stringify(found.data && isObject(result) ? { ...result, skillReport: found.data } : result, null, 2)}
        </pre>
      )}
    </section>
  );
}
