import type { Json } from "../envelope";
import { gitState } from "../skills";

/** git-watcher: the branch and its distance from upstream, the last commit, the changed files. */
export function GitWatcherResult({ data }: { data: Json }) {
  const git = gitState(data);
  if (!git.isGitRepo) return <p>{git.repo} is not a git repository.</p>;
  return (
    <div className="result-git">
      <p>
        Branch <strong>{git.branch ?? "(detached)"}</strong>
        {git.upstream && (
          <>
            {" "}
            tracking <code>{git.upstream}</code>: {git.ahead} ahead, {git.behind} behind
          </>
        )}
        . {git.dirty ? "Uncommitted changes." : "The working tree is clean."}
      </p>
      {git.lastCommit && (
        <p className="small">
          Last commit <code>{git.lastCommit.sha.slice(0, 10)}</code> {git.lastCommit.subject}{" "}
          <span className="muted">{git.lastCommit.date}</span>
        </p>
      )}
      {git.counts.some((c) => c.count > 0) && (
        <p className="small">{git.counts.map((c) => `${c.count} ${c.name}`).join(" · ")}</p>
      )}
      {git.changes.length > 0 && (
        <div className="result-scroll">
          <table className="ra-table result-table" aria-label="Changed files">
            <thead>
              <tr>
                <th>File</th>
                <th>Change</th>
                <th>Staged</th>
                <th>Work tree</th>
              </tr>
            </thead>
            <tbody>
              {git.changes.map((c, i) => (
                <tr key={`${c.path}-${i}`}>
                  <td>
                    <code>{c.path}</code>
                  </td>
                  <td>{c.change}</td>
                  <td>{c.staged.trim()}</td>
                  <td>{c.worktree.trim()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
