import { describe, expect, it } from "vitest";
import { cellText, label, shapeOf, tableOf } from "./table";

describe("tableOf", () => {
  it("makes a table of a list of objects, columns in order of first appearance", () => {
    const table = tableOf([
      { a: 1, b: 2 },
      { b: 3, c: 4 },
    ]);
    expect(table?.columns).toEqual(["a", "b", "c"]);
    expect(table?.rows).toHaveLength(2);
  });

  it("is no table for empty lists, lists of scalars or mixed lists, and non-lists", () => {
    expect(tableOf([])).toBeNull();
    expect(tableOf([1, 2])).toBeNull();
    expect(tableOf([{ a: 1 }, 2])).toBeNull();
    expect(tableOf([{ a: 1 }, [1]])).toBeNull();
    expect(tableOf({ a: 1 })).toBeNull();
  });

  it("keeps at most 12 columns", () => {
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
    expect(tableOf([wide])?.columns).toHaveLength(12);
  });
});

describe("shapeOf and cellText", () => {
  it("tells scalars, tables, lists and objects apart", () => {
    expect(shapeOf("x")).toBe("scalar");
    expect(shapeOf(null)).toBe("scalar");
    expect(shapeOf([{ a: 1 }])).toBe("table");
    expect(shapeOf([1, "a"])).toBe("list");
    expect(shapeOf({ a: 1 })).toBe("object");
  });

  it("writes cells as text", () => {
    expect(cellText(null)).toBe("");
    expect(cellText(false)).toBe("false");
    expect(cellText(1.5)).toBe("1.5");
    expect(cellText(["a", 1])).toBe("a, 1");
    expect(cellText({ a: 1 })).toBe('{"a":1}');
  });

  it("reads keys as labels", () => {
    expect(label("byCategory")).toBe("By category");
    expect(label("skipped_rows")).toBe("Skipped rows");
    expect(label("id")).toBe("Id");
  });
});
