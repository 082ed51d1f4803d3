import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard's browser front end: plain TypeScript and Chart.js, bundled offline into `dist-dashboard/`
 * (served by `chronicle dashboard`). `base: './'` keeps every asset URL relative, so the page works wherever the
 * server mounts it. In development, `vite --config dashboard/vite.config.ts` proxies `/api` to a running
 * `chronicle dashboard` (CHRONICLE_DASHBOARD_API, default http://127.0.0.1:4173).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../dist-dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: { '/api': process.env['CHRONICLE_DASHBOARD_API'] ?? 'http://127.0.0.1:4173' },
  },
});
