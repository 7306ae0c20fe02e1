import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

/**
 * For working on the console with live reload: `VIGIL_DEV_SERVER=https://127.0.0.1:8443 npx vite
 * packages/web` serves the sources and passes the API (and the stream) to a running server, whose
 * self-signed certificate is accepted for that purpose only.
 */
const target = process.env.VIGIL_DEV_SERVER;
const proxy: Record<string, ProxyOptions> | undefined = target
  ? { '/api': { target, secure: false, changeOrigin: true } }
  : undefined;

/**
 * The console's build: hashed assets under `/assets/` (served with a year's cache), one small
 * `index.html` (served with no-cache), no inline script (the server's Content-Security-Policy
 * forbids it), and source maps for operators who report a problem.
 */
export default defineConfig({
  plugins: [react()],
  base: '/',
  server: { proxy },
  preview: { proxy },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: true,
    // Vite would inline small assets as data: URLs; keeping them files keeps the CSP simple.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
});
