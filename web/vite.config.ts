import { defineConfig } from 'vitest/config';

// The needmap server serves `dist/` at `/` and the JSON API at `/api/...` on the same
// origin. In development (`npm run dev`) Vite proxies the API and tiles to a local
// `needmap serve` on port 8080.
const backend = 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // maplibre-gl alone is ~1 MB minified; do not warn about it.
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // The MapLibre worker is copied as an asset (see src/main.ts). Give every emitted
        // JavaScript file a `.js` name so that any static file server sends a JavaScript
        // MIME type (module workers are refused otherwise).
        assetFileNames: (info) => {
          const name = info.names?.[0] ?? '';
          return name.endsWith('.mjs') ? 'assets/[name]-[hash].js' : 'assets/[name]-[hash][extname]';
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/tiles': { target: backend, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/tiles': { target: backend, changeOrigin: false },
    },
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
});
