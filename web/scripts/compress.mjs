// After `vite build`: a gzip and a brotli copy next to every text asset of dist/ (name.js.gz,
// name.js.br). WhiteNoise, which serves dist/ (utils/storefront.py), picks the copy the browser
// accepts and answers it with its Content-Encoding; it compresses nothing itself.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const TEXT = /\.(js|mjs|css|html|svg|json|txt|map)$/
// Below this size a compressed answer saves less than its headers cost.
const MIN_BYTES = 1024

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else yield path
  }
}

const root = process.argv[2] || 'dist'
let count = 0
for (const path of files(root)) {
  if (!TEXT.test(path)) continue
  const body = readFileSync(path)
  if (body.length < MIN_BYTES) continue
  writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }))
  writeFileSync(
    `${path}.br`,
    brotliCompressSync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
  )
  count += 1
}
console.log(`compressed ${count} files of ${root}/ (gzip and brotli)`)
