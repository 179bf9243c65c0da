import { defineConfig } from "vitest/config";

// Browser client figures for docs/BENCHMARKS.md (make web-bench). The bots
// use Node's WebSocket, behind a flag on Node 20.
export default defineConfig({
  test: {
    include: ["bench/**/*.figures.test.ts"],
    environment: "node",
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    maxWorkers: 1,
    pool: "forks",
    execArgv: ["--experimental-websocket"],
    reporters: ["verbose"],
  },
});
