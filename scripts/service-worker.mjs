// Writes dist/sw.js (the service worker) from assets/sw.js for the build in
// the given folder (dist/ by default): its version, a hash of every file
// the build made (so any change gives a new worker, which the browser sees
// as an update), and its app shell, the files cached at install: all of
// them but those cached on first use (the render worker's and the main
// wasm's split chunks, which the page loads when a part is first used, and
// the PNG icons, which only installing the app shows: 21 KB a first visit
// need not pay), the compressed copies and sw.js.
//
// Run by scripts/build-release.sh (`make build`) after Trunk and before
// scripts/precompress.mjs, so sw.js gets its .br and .gz. Idempotent.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const dir = process.argv[2] ?? "dist";
const template = readFileSync(new URL("../assets/sw.js", import.meta.url), "utf8");

function* files(folder) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield relative(dir, path).split(sep).join("/");
  }
}

const built = [...files(dir)].filter((name) => !/\.(br|gz)$/.test(name) && name !== "sw.js").sort();
const hash = createHash("sha256");
for (const name of built) hash.update(name).update("\0").update(readFileSync(join(dir, name))).update("\0");
const version = hash.digest("hex").slice(0, 16);
// Cached on first use rather than at install; the worker gets the same
// rule in its build object, so the two cannot disagree.
const ON_FIRST_USE = /^confab-render-worker|^(split|chunk)_|\.png$/;
// index.html as "./", the URL pages load it from (assets/sw.js's INDEX).
const shell = built
  .filter((name) => !ON_FIRST_USE.test(name))
  .map((name) => (name === "index.html" ? "./" : name));
// The files cached on first use, by the worker's install when an older
// version had them: a part used before opens offline after an update too.
const lazy = built.filter((name) => ON_FIRST_USE.test(name));
if (!shell.includes("./")) throw new Error(`${dir}/index.html is missing: build the app first`);

const slot = "= __BUILD__;";
if (!template.includes(slot)) throw new Error(`assets/sw.js has no "${slot}" to fill in`);
// Comments stay in assets/sw.js: every visit checks sw.js for changes.
const code = template
  .split("\n")
  .filter((line) => !/^\s*\/\//.test(line))
  .join("\n")
  .replace(slot, `= ${JSON.stringify({ version, shell, lazy, onFirstUse: ON_FIRST_USE.source })};`);
writeFileSync(join(dir, "sw.js"), `// Confab's service worker, from assets/sw.js (scripts/service-worker.mjs).\n${code}`);
console.log(`${dir}/sw.js: version ${version}, ${shell.length} files in the shell`);
