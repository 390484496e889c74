/// <reference types="vitest" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The backend (talkative serve) serves the build from src/talkative/static at `/`,
// `/workflow` and `/router-admin`, and the hashed files under `/assets`.
const backend = process.env.TALKATIVE_URL ?? "http://127.0.0.1:4123";
const apiPrefixes = [
  "/auth", "/agents", "/skills", "/workflows", "/workflow/", "/node", "/conversation",
  "/events", "/orchestrator", "/approvals", "/prompts", "/channels", "/router/", "/health",
];
// GET /workflow is the editor page (served by Vite in dev); POST /workflow is the API.
const workflowApi = {
  target: backend,
  bypass: (req: { method?: string }) => (req.method === "GET" ? "/index.html" : undefined),
};

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "../src/talkative/static",
    emptyOutDir: true,
  },
  server: {
    // `npm run dev` proxies the API to a running backend (TALKATIVE_URL).
    proxy: {
      ...Object.fromEntries(apiPrefixes.map((p) => [p, { target: backend }])),
      "^/workflow$": workflowApi,
    },
  },
  test: {
    environment: "jsdom",
    globals: false,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    testTimeout: 20000, // above the 5 s a findBy may wait (src/test/setup.ts)
  },
});
