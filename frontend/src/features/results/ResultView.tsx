/** A step's result: its summary in words, then the JSON. (A stub; the real renderers replace it.) */
export function ResultView(props: { skill: string; result: unknown; runId?: string }): JSX.Element {
  const { result } = props;
  const summary =
    result && typeof result === "object" && typeof (result as { summary?: unknown }).summary === "string"
      ? (result as { summary: string }).summary
      : null;
  return (
    <div className="result-view">
      {summary && <p className="result-summary">{summary}</p>}
      <pre className="payload">{JSON.stringify(result, null, 2)}</pre>
    </div>
  );
}
