import { resolve } from "node:path";
import { defineConfig } from "vite";

// `npx vite` serves the client with hot reload and forwards the game's
// endpoints to a server on :8080 (go run ./cmd/arbiter), and the
// dashboard's (dashboard.html) to its admin address on :9090; `vite build`
// writes client-web/dist, which the server serves: index.html at / on the
// public address, dashboard.html at /dashboard/ on the admin address. Asset
// URLs are relative (base "./") so that both pages find them from there.
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
    rolldownOptions: {
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        dashboard: resolve(import.meta.dirname, "dashboard.html"),
      },
      // What both pages use (protobuf, the generated code, the netcode, the renderer).
      output: { chunkFileNames: "assets/shared-[hash].js" },
    },
  },
  server: {
    proxy: {
      "/v1": { target: "http://localhost:8080", ws: true },
      "/dashboard/": { target: "http://localhost:9090", ws: true },
    },
  },
});
