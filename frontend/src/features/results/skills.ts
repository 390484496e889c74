import { isObject, type Json } from "./envelope";

// ---- mail-triage -----------------------------------------------------------------------

export interface TriagedEmail {
  id: string;
  from: string;
  subject: string;
  date: string;
  category: string;
  confidence: number | null;
  action: string;
}

export interface CategoryGroup {
  category: string;
  count: number;
  emails: TriagedEmail[];
}

const CATEGORY_ORDER = ["billing", "work", "personal", "spam"];

function str(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The emails grouped by category: the skill's four first (in its order), then any other, by name. */
export function triageGroups(data: Json): CategoryGroup[] {
  const emails: TriagedEmail[] = (Array.isArray(data.emails) ? data.emails : []).filter(isObject).map((e) => ({
    id: str(e.id),
    from: str(e.from),
    subject: str(e.subject),
    date: str(e.date),
    category: str(e.category) || "uncategorised",
    confidence: num(e.confidence),
    action: str(e.suggestedAction),
  }));
  const counts = isObject(data.counts) ? data.counts : {};
  const names = new Set<string>([...CATEGORY_ORDER.filter((c) => c in counts), ...emails.map((e) => e.category)]);
  const rank = (c: string) => (CATEGORY_ORDER.includes(c) ? CATEGORY_ORDER.indexOf(c) : CATEGORY_ORDER.length);
  return [...names]
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((category) => {
      const inGroup = emails.filter((e) => e.category === category);
      return { category, count: num(counts[category]) ?? inGroup.length, emails: inGroup };
    });
}

export function invalidEntries(data: Json): { index: string; reason: string }[] {
  return (Array.isArray(data.invalid) ? data.invalid : []).map((item) =>
    isObject(item) ? { index: str(item.index), reason: str(item.reason) } : { index: "", reason: str(item) },
  );
}

// ---- monthly-bookkeeping ---------------------------------------------------------------

export interface Bookkeeping {
  totals: { label: string; amount: number }[];
  /** Per category, largest amount first (income above expenses). */
  categories: { name: string; amount: number }[];
  /** The categories' sum, which equals `net` when the report is consistent. */
  categoriesTotal: number;
  months: { month: string; income: number; expense: number; net: number; count: number }[];
  transactions: number | null;
  period: { from: string; to: string } | null;
  skipped: { line: string; reason: string }[];
}

/** Sums in cents, so 0.1 + 0.2 is 0.3 (the skill sums exact decimals). */
export function sumAmounts(amounts: number[]): number {
  return amounts.reduce((total, a) => total + Math.round(a * 100), 0) / 100;
}

export function bookkeeping(data: Json): Bookkeeping {
  const totals = (["income", "expense", "net"] as const)
    .filter((key) => num(data[key]) !== null)
    .map((key) => ({ label: key[0].toUpperCase() + key.slice(1), amount: num(data[key]) ?? 0 }));
  const byCategory = isObject(data.byCategory) ? data.byCategory : {};
  const categories = Object.entries(byCategory)
    .filter((entry): entry is [string, number] => num(entry[1]) !== null)
    .map(([name, amount]) => ({ name, amount }))
    .sort((a, b) => b.amount - a.amount || a.name.localeCompare(b.name));
  const byMonth = isObject(data.byMonth) ? data.byMonth : {};
  const months = Object.entries(byMonth)
    .filter((entry): entry is [string, Json] => isObject(entry[1]))
    .map(([month, m]) => ({
      month,
      income: num(m.income) ?? 0,
      expense: num(m.expense) ?? 0,
      net: num(m.net) ?? 0,
      count: num(m.count) ?? 0,
    }))
    .sort((a, b) => a.month.localeCompare(b.month));
  const period =
    isObject(data.period) && str(data.period.from) ? { from: str(data.period.from), to: str(data.period.to) } : null;
  const transactions = num(data.transactions) ?? (Array.isArray(data.transactions) ? data.transactions.length : null);
  const skipped = (Array.isArray(data.skippedRows) ? data.skippedRows : [])
    .filter(isObject)
    .map((row) => ({ line: str(row.line), reason: str(row.reason) }));
  return {
    totals,
    categories,
    categoriesTotal: sumAmounts(categories.map((c) => c.amount)),
    months,
    transactions,
    period,
    skipped,
  };
}

/** An amount with two decimals and thousands separators ("-1,200.00"). */
export function formatAmount(amount: number): string {
  return amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

// ---- git-watcher -----------------------------------------------------------------------

export interface GitChange {
  path: string;
  change: string;
  staged: string;
  worktree: string;
}

export interface GitState {
  isGitRepo: boolean;
  repo: string;
  branch: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
  dirty: boolean;
  lastCommit: { sha: string; subject: string; date: string } | null;
  counts: { name: string; count: number }[];
  changes: GitChange[];
}

export function gitState(data: Json): GitState {
  const commit = isObject(data.lastCommit) ? data.lastCommit : null;
  const counts = isObject(data.counts) ? data.counts : {};
  return {
    isGitRepo: data.isGitRepo === true,
    repo: str(data.repo) || ".",
    branch: str(data.branch) || null,
    upstream: str(data.upstream) || null,
    ahead: num(data.ahead) ?? 0,
    behind: num(data.behind) ?? 0,
    dirty: data.dirty === true,
    lastCommit: commit ? { sha: str(commit.sha), subject: str(commit.subject), date: str(commit.date) } : null,
    counts: Object.entries(counts)
      .filter((entry): entry is [string, number] => num(entry[1]) !== null)
      .map(([name, count]) => ({ name, count })),
    changes: (Array.isArray(data.changedFiles) ? data.changedFiles : []).filter(isObject).map((f) => ({
      path: str(f.origPath) ? `${str(f.origPath)} → ${str(f.path)}` : str(f.path),
      change: str(f.change),
      staged: str(f.index),
      worktree: str(f.worktree),
    })),
  };
}
