import { isObject } from "./envelope";

/** A list of objects shown as a table: the columns in order of first appearance. */
export interface Table {
  columns: string[];
  rows: Record<string, unknown>[];
}

const MAX_COLUMNS = 12;

/** A table when `value` is a non-empty list whose items are all objects, else null. */
export function tableOf(value: unknown): Table | null {
  if (!Array.isArray(value) || value.length === 0 || !value.every(isObject)) return null;
  const columns: string[] = [];
  for (const row of value) {
    for (const key of Object.keys(row)) {
      if (!columns.includes(key) && columns.length < MAX_COLUMNS) columns.push(key);
    }
  }
  return { columns, rows: value };
}

export function isScalar(value: unknown): value is string | number | boolean | null | undefined {
  return value === null || value === undefined || ["string", "number", "boolean"].includes(typeof value);
}

/** A value as one cell's text: scalars as they are, lists of scalars joined, anything else as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => isScalar(v))) return value.map((v) => cellText(v)).join(", ");
  return JSON.stringify(value);
}

export type Shape = "scalar" | "table" | "list" | "object";

/** How the generic renderer shows a value. */
export function shapeOf(value: unknown): Shape {
  if (isScalar(value)) return "scalar";
  if (tableOf(value)) return "table";
  if (Array.isArray(value)) return "list";
  return "object";
}

/** "byCategory" → "By category", "skipped_rows" → "Skipped rows": keys read as labels. */
export function label(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : key;
}
