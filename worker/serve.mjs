// `make serve`: the built worker (worker/build/) in workerd through Miniflare, with the bindings,
// vars, assets and secrets (.dev.vars) that `wrangler dev` would give it, as wrangler's own
// `unstable_getMiniflareWorkerOptions` reads them from wrangler.toml (one source of truth for
// both). Importing wrangler costs ~2 s of CPU, so its answer is cached in
// .wrangler/serve-options.json (owner-only: it holds the .dev.vars secrets) and recomputed only
// when wrangler.toml, .dev.vars or the installed wrangler is newer.
//
// What sits in front of the worker, per request (workerd CPU, `make bench-worker`):
// - not `wrangler dev` (still `make dev`, for live reload): its proxy worker, inspector and file
//   watcher, and the [build] command at every start;
// - not Miniflare's entry worker (~0.3 ms) nor the platform's asset router (~0.5-2 ms: it asks the
//   asset worker over RPC whether a file exists, on every request): the serving port is a workerd
//   socket of its own, bound to the worker itself. The worker serves the demo page from its ASSETS
//   binding for any GET outside the API (worker/src/lib.rs), so the site is the same as deployed.
// State is kept where `wrangler dev --persist-to DIR` keeps it (DIR/v3), so `make serve` and
// `make dev` share the same R2/KV/Queue data.
//
//   node worker/serve.mjs [--host 127.0.0.1] [--port 8787] [--persist-to .wrangler/state]
//                         [--var NAME:VALUE ...] [--quiet]
//
// Prints "creditscore: workerd ready on http://HOST:PORT in N ms", the API paths, the /logs token
// and the state folder once it serves; stops cleanly on SIGINT/SIGTERM.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Log, LogLevel, Miniflare } from 'miniflare';

const started = performance.now();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '8787' },
  'persist-to': { type: 'string', default: '.wrangler/state' },
  var: { type: 'string', multiple: true, default: [] },
  quiet: { type: 'boolean', default: false },
};
let opts;
try {
  opts = parseArgs({ options: OPTIONS }).values;
} catch (e) {
  // One line, not Node's stack: e.g. an unknown or misspelt option.
  console.error(`${e.message}\nusage: node worker/serve.mjs [--host H] [--port P] [--persist-to DIR] [--var NAME:VALUE ...] [--quiet]`);
  process.exit(2);
}
// wrangler resolves paths (main, assets, .dev.vars) against the config's folder; Miniflare
// against the working directory: run from the root so both agree.
process.chdir(ROOT);

const CACHE = path.join(ROOT, '.wrangler', 'serve-options.json');
const SOURCES = ['wrangler.toml', '.dev.vars', 'node_modules/wrangler/package.json'];

/** wrangler.toml (+ .dev.vars) as Miniflare worker options, from the cache when it is fresh. */
async function workerConfig() {
  const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);
  if (existsSync(CACHE) && SOURCES.every((f) => mtime(path.join(ROOT, f)) <= mtime(CACHE))) {
    return JSON.parse(readFileSync(CACHE, 'utf8'));
  }
  const { unstable_getMiniflareWorkerOptions } = await import('wrangler');
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(path.join(ROOT, 'wrangler.toml'));
  const config = { workerOptions, main };
  mkdirSync(path.dirname(CACHE), { recursive: true });
  writeFileSync(CACHE, JSON.stringify(config), { mode: 0o600 });
  return config;
}

const { workerOptions, main } = await workerConfig();
const scriptPath = path.resolve(ROOT, main);
if (!existsSync(scriptPath)) {
  console.error(`${main} is missing: run \`make worker-build\` first`);
  process.exit(1);
}
const bindings = { ...workerOptions.bindings };
for (const pair of opts.var) {
  const at = pair.indexOf(':');
  if (at < 1) {
    console.error(`--var ${pair}: expected NAME:VALUE`);
    process.exit(2);
  }
  bindings[pair.slice(0, at)] = pair.slice(at + 1);
}

const port = Number(opts.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`--port ${opts.port}: expected a port number, 1-65535`);
  process.exit(2);
}
// A busy port gets one clear line (workerd itself would print a fatal exception and a stack).
const free = await new Promise((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(port, opts.host, () => probe.close(() => resolve(true)));
});
if (!free) {
  console.error(`${opts.host}:${opts.port} is in use (another \`make serve\`?): stop it, or pick another port (make serve SERVE_PORT=8790)`);
  process.exit(1);
}

// The worker's own modules, plus an entry module that also exports its handler under the name
// `api`: a named entrypoint is reached without the asset router (Miniflare routes only the default
// entrypoint of a worker with assets through it), and the serving socket is bound to it.
const buildDir = path.dirname(scriptPath);
const entry = path.join(buildDir, 'serve-entry.mjs');
const modules = [
  { type: 'ESModule', path: entry, contents: `export { default, default as api } from './${path.basename(scriptPath)}';\n` },
  { type: 'ESModule', path: scriptPath },
  { type: 'CompiledWasm', path: path.join(buildDir, 'index_bg.wasm') },
];
const mf = new Miniflare({
  // Miniflare's own entry socket (unused by clients: they use the worker's socket below).
  host: '127.0.0.1',
  port: 0,
  // Offline-safe: never fetch Request.cf data from the internet (Miniflare's built-in stand-in).
  cf: false,
  // No per-request log lines (each costs a round trip to Node); the worker's own console output
  // still goes to stdout/stderr.
  logRequests: false,
  // Miniflare's own warnings and errors.
  log: new Log(LogLevel.WARN),
  defaultPersistRoot: path.join(path.resolve(ROOT, opts['persist-to']), 'v3'),
  workers: [
    {
      name: 'creditscore',
      ...workerOptions,
      bindings,
      modulesRoot: buildDir,
      modules,
      unsafeDirectSockets: [{ host: opts.host, port, entrypoint: 'api' }],
    },
  ],
});
try {
  await mf.ready;
} catch (e) {
  console.error(`workerd did not start: ${e.message}`);
  await mf.dispose().catch(() => {});
  process.exit(1);
}
const ms = (performance.now() - started).toFixed(0);
const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
if (!opts.quiet) {
  // Printed only once it serves, so that a failed start never looks like a started one.
  const token = bindings.LOGS_ACCESS_TOKEN;
  console.log(`creditscore: workerd ready on http://${shownHost}:${opts.port} in ${ms} ms (Ctrl-C stops)`);
  console.log('             demo page at /; API: /health /features /predict /explain /logs /openapi.json');
  console.log(
    token
      ? `             GET /logs token: ${token} (header "Authorization: Bearer <token>"; from .dev.vars)`
      : '             GET /logs: no LOGS_ACCESS_TOKEN set, so /logs answers 503',
  );
  console.log(`             R2/KV/Queue state in ${opts['persist-to']}`);
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
