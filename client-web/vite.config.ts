import { defineConfig } from "vite";

// `npx vite` serves the client with hot reload and forwards the game's
// endpoints to a server on :8080 (go run ./cmd/arbiter); `vite build`
// writes client-web/dist, which the server serves at /.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      "/v1": { target: "http://localhost:8080", ws: true },
    },
  },
});
