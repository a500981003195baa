// Writes a Brotli (quality 11) and a gzip (level 9) copy beside each text or
// wasm file in the given folder (dist/ by default): x.wasm → x.wasm.br,
// x.wasm.gz. confab-proxy serves them by Accept-Encoding, as nginx's
// brotli_static/gzip_static and most static hosts do, so no request pays for
// compressing (and quality 11 is far too slow to run per request).
//
// Run by scripts/build-release.sh (`make build`). Idempotent: a copy newer
// than its file is kept, a copy whose file is gone is removed, and a copy no
// smaller than its file is not written (the server would send more bytes).
// Node's own zlib, so nothing is installed for it.
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

// Already-compressed formats (png, jpg, webp, woff2) gain nothing.
const COMPRESSIBLE = /\.(html|js|mjs|css|wasm|svg|json|webmanifest|txt|map)$/;
const ENCODINGS = [
  {
    suffix: ".br",
    compress: (bytes) =>
      brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          // Text mode only tunes the context model; wasm is binary.
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC,
        },
      }),
  },
  { suffix: ".gz", compress: (bytes) => gzipSync(bytes, { level: 9 }) },
];

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

const dir = process.argv[2] ?? "dist";
const all = [...files(dir)];
const present = new Set(all);
let written = 0;
let kept = 0;
for (const path of all) {
  const encoding = ENCODINGS.find((e) => path.endsWith(e.suffix));
  if (encoding) {
    // A copy of a file that a new build no longer has.
    if (!present.has(path.slice(0, -encoding.suffix.length))) unlinkSync(path);
    continue;
  }
  if (!COMPRESSIBLE.test(path)) continue;
  const sourceTime = mtime(path);
  let bytes = null;
  for (const { suffix, compress } of ENCODINGS) {
    const target = path + suffix;
    const targetTime = mtime(target);
    if (targetTime !== null && targetTime >= sourceTime) {
      kept++;
      continue;
    }
    bytes ??= readFileSync(path);
    const packed = compress(bytes);
    if (packed.length < bytes.length) {
      writeFileSync(target, packed);
      written++;
    } else if (targetTime !== null) {
      unlinkSync(target);
    }
  }
}
console.log(`precompress: ${written} written, ${kept} up to date in ${dir}/`);
