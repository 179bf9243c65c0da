import { defineConfig } from "vitest/config";

// Browser end-to-end tests (npm run e2e): Debian's Chromium through
// playwright-core against the real server binary. One file at a time, one
// worker: they start processes and measure timing. The dashboard test's
// bots (bench/bots.ts) use Node's WebSocket, behind a flag on Node 20.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    maxWorkers: 1,
    pool: "forks",
    execArgv: ["--experimental-websocket"],
    reporters: ["verbose"],
  },
});
