import { defineConfig } from "vitest/config";

// Unit tests (npm test). The browser end-to-end tests have their own
// config (vitest.e2e.config.ts).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
