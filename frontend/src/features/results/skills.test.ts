import { describe, expect, it } from "vitest";
import { bookkeeping, formatAmount, gitState, invalidEntries, sumAmounts, triageGroups } from "./skills";

const email = (id: string, category: string) => ({
  id,
  from: `${id}@x.example`,
  subject: `about ${id}`,
  date: "",
  category,
  confidence: 0.8,
  suggestedAction: "reply",
});

describe("triageGroups", () => {
  it("groups emails by category in the skill's order, counts from the report", () => {
    const groups = triageGroups({
      emails: [email("1", "spam"), email("2", "billing"), email("3", "work"), email("4", "billing")],
      counts: { billing: 2, work: 1, personal: 0, spam: 1 },
    });
    expect(groups.map((g) => [g.category, g.count, g.emails.length])).toEqual([
      ["billing", 2, 2],
      ["work", 1, 1],
      ["personal", 0, 0],
      ["spam", 1, 1],
    ]);
    expect(groups[0].emails[0]).toMatchObject({ id: "2", action: "reply", confidence: 0.8 });
  });

  it("puts unknown categories after the known ones and counts them from the emails", () => {
    const groups = triageGroups({ emails: [email("1", "zeta"), email("2", "alpha"), email("3", "work"), "junk"] });
    expect(groups.map((g) => `${g.category}:${g.count}`)).toEqual(["work:1", "alpha:1", "zeta:1"]);
  });

  it("lists invalid entries", () => {
    expect(invalidEntries({ invalid: [{ index: 3, reason: "'from' must be a string" }] })).toEqual([
      { index: "3", reason: "'from' must be a string" },
    ]);
    expect(invalidEntries({})).toEqual([]);
  });
});

describe("bookkeeping", () => {
  const data = {
    income: 4200,
    expense: 1336.44,
    net: 2863.56,
    byCategory: { rent: -1200, sales: 4200, supplies: -86.45, software: -49.99 },
    byMonth: {
      "2024-02": { income: 0, expense: 10, net: -10, count: 1 },
      "2024-01": { income: 4200, expense: 1326.44, net: 2873.56, count: 4 },
    },
    transactions: 5,
    period: { from: "2024-01-02", to: "2024-02-01" },
    skippedRows: [{ line: 7, reason: "bad amount" }],
  };

  it("gives the totals, the categories largest first and their sum", () => {
    const view = bookkeeping(data);
    expect(view.totals).toEqual([
      { label: "Income", amount: 4200 },
      { label: "Expense", amount: 1336.44 },
      { label: "Net", amount: 2863.56 },
    ]);
    expect(view.categories.map((c) => c.name)).toEqual(["sales", "software", "supplies", "rent"]);
    expect(view.categoriesTotal).toBe(2863.56);
    expect(view.months.map((m) => m.month)).toEqual(["2024-01", "2024-02"]);
    expect(view).toMatchObject({ transactions: 5, period: { from: "2024-01-02", to: "2024-02-01" } });
    expect(view.skipped).toEqual([{ line: "7", reason: "bad amount" }]);
  });

  it("leaves out fields of the wrong shape", () => {
    const view = bookkeeping({ income: "lots", byCategory: { a: "x", b: 2 }, transactions: [1, 2, 3] });
    expect(view.totals).toEqual([]);
    expect(view.categories).toEqual([{ name: "b", amount: 2 }]);
    expect(view).toMatchObject({ transactions: 3, period: null, months: [] });
  });

  it("sums in cents and formats amounts", () => {
    expect(sumAmounts([0.1, 0.2])).toBe(0.3);
    expect(sumAmounts([])).toBe(0);
    expect(formatAmount(-1200)).toBe("-1,200.00");
    expect(formatAmount(0.5)).toBe("0.50");
  });
});

describe("gitState", () => {
  it("reads the branch, the last commit and the changes, renames as old → new", () => {
    const git = gitState({
      isGitRepo: true,
      repo: ".",
      branch: "main",
      upstream: "origin/main",
      ahead: 2,
      behind: 0,
      dirty: true,
      lastCommit: { sha: "abc", subject: "fix", date: "2024-01-01" },
      counts: { staged: 1, unstaged: 1, untracked: 0 },
      changedFiles: [
        { path: "a.py", index: "M", worktree: " ", change: "modified" },
        { path: "b.py", origPath: "old.py", index: "R", worktree: " ", change: "renamed" },
      ],
    });
    expect(git).toMatchObject({ branch: "main", ahead: 2, dirty: true, lastCommit: { sha: "abc" } });
    expect(git.changes.map((c) => c.path)).toEqual(["a.py", "old.py → b.py"]);
    expect(git.counts).toHaveLength(3);
  });

  it("says when the folder is not a repository", () => {
    expect(gitState({ isGitRepo: false, repo: "inputs/x" })).toMatchObject({
      isGitRepo: false,
      repo: "inputs/x",
      changes: [],
    });
  });
});
