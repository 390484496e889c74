import "@testing-library/jest-dom/vitest";
import { afterEach } from "vitest";
import { cleanup, configure } from "@testing-library/react";

// findBy*/waitFor give up after this long. The default (1 s) is shorter than rendering the
// workflow canvas in jsdom takes on a loaded 2-core CI machine; a wait that succeeds returns at once.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
  localStorage.clear();
});
