// Vite build of the storefront. Django serves web/dist at / (luffy_api/urls.py, WHITENOISE_ROOT),
// so assets live under /assets/ with hashed names and may be cached forever.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// `npm run dev` talks to the Django dev server (make run) for the API, media and the local cashier.
const backend = process.env.LUFFY_BACKEND || 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Element Plus per component (and its CSS per component): the home page stays small.
    AutoImport({ resolvers: [ElementPlusResolver()], dts: false }),
    Components({ resolvers: [ElementPlusResolver()], dts: false }),
  ],
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': backend,
      '/media': backend,
      '/cashier': backend,
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.js'],
  },
})
