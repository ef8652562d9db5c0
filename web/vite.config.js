// Vite build of the storefront. Django serves web/dist at / (luffy_api/urls.py, WHITENOISE_ROOT),
// so assets live under /assets/ with hashed names and may be cached forever.
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// `npm run dev` talks to the Django dev server (make run) for the API, media and the local cashier.
const backend = process.env.LUFFY_BACKEND || 'http://127.0.0.1:8000'

// Element Plus' own resolver imports every component from the package's index, so the build
// cannot tell which page uses which component before tree-shaking (manualChunks below needs to).
// This one imports each from the component's module: ElTabPane from element-plus/es/components/tabs.
const EP_COMPONENTS = fileURLToPath(new URL('./node_modules/element-plus/es/components/', import.meta.url))
const EP_MODULES = {}
for (const dir of readdirSync(EP_COMPONENTS)) {
  let code = ''
  try {
    code = readFileSync(`${EP_COMPONENTS}${dir}/index.mjs`, 'utf8')
  } catch {
    continue // a sub-component's folder (styles only)
  }
  const exported = code.match(/^export \{(.*)\};?$/m)?.[1] || ''
  for (const [name] of exported.matchAll(/\bEl[A-Z]\w*/g)) {
    EP_MODULES[name] ??= `element-plus/es/components/${dir}/index.mjs`
  }
}
const elementPlusByModule = () =>
  ElementPlusResolver().map((resolver) => ({
    ...resolver,
    resolve: async (name) => {
      const found = await resolver.resolve(name)
      const from = found && found.name && EP_MODULES[found.name]
      return from && found.from === 'element-plus/es' ? { ...found, from } : found
    },
  }))

/** Whether `id` is in the entry's static import graph (it then stays in the entry's chunk). */
function inEntry(id, getModuleInfo, seen = new Set()) {
  if (seen.has(id)) return false
  seen.add(id)
  const info = getModuleInfo(id)
  if (!info) return false
  return info.isEntry || info.importers.some((importer) => inEntry(importer, getModuleInfo, seen))
}

/**
 * The pages (src/views, loaded by the router) whose static graph holds `id`. What a page loads
 * on demand (a dialog, the pager) does not count: it stays out of the chunks a page paints with.
 */
function usedBy(id, getModuleInfo, seen = new Set(), found = new Set()) {
  if (seen.has(id)) return found
  seen.add(id)
  const info = getModuleInfo(id)
  if (!info) return found
  if (info.dynamicImporters.length && id.includes('/src/views/')) found.add(id)
  for (const importer of info.importers) usedBy(importer, getModuleInfo, seen, found)
  return found
}

const HOME = fileURLToPath(new URL('./src/views/HomePage.vue', import.meta.url))

/**
 * Fewer, larger files after the entry: on a phone's slow round trips (HTTP/1.1, six
 * connections) thirty small files cost more than their bytes. What the pages share goes into
 * three chunks: `common`, what the home page (the first page most visitors open) shares with
 * others, so that it loads nothing more; `ui` (Element Plus) and `shared` (our components,
 * composables and API modules), what the other pages share. The rest stays with its one page.
 * The entry's own graph is named too, or Rollup would move what these chunks import into them.
 */
function lazyChunk(id, { getModuleInfo }) {
  if (inEntry(id, getModuleInfo)) return 'index'
  const users = usedBy(id, getModuleInfo)
  if (users.size < 2) return undefined
  if (users.has(HOME)) return 'common'
  return id.includes('/node_modules/') ? 'ui' : 'shared'
}

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Element Plus per component (and its CSS per component): the home page stays small.
    AutoImport({ resolvers: [elementPlusByModule()], dts: false }),
    Components({ resolvers: [elementPlusByModule()], dts: false }),
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
    rollupOptions: { output: { manualChunks: lazyChunk } },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.js'],
  },
})
