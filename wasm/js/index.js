// Browser and bundler entry (ES module). Call `await init()` (or a `load*` function, which does
// it) before constructing a CreditScorer.
import initWasm, { CreditScorer as WasmScorer, initSync } from './creditscore.js';
import { withFastRecords } from './records.js';

export const CreditScorer = withFastRecords(WasmScorer);
export { initSync };

/** URL of the default model bundle shipped in the package. */
export const defaultModelUrl = new URL('../model/default.csb', import.meta.url);

let ready;

/**
 * Fetches and instantiates the wasm module once; later calls share the same promise.
 * `wasm` may be a URL, a Response, bytes or a compiled WebAssembly.Module (default: the
 * package's creditscore_bg.wasm next to this file).
 */
export function init(wasm) {
  if (!ready) {
    ready = initWasm(wasm === undefined ? undefined : { module_or_path: wasm }).then(
      () => undefined,
      (error) => {
        ready = undefined;
        throw error;
      },
    );
  }
  return ready;
}

/** A scorer from bundle bytes, a URL (string or URL) or a fetch Response. */
export async function loadModel(source) {
  await init();
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    return new CreditScorer(source);
  }
  const response = source instanceof Response ? source : await fetch(source);
  if (!response.ok) {
    throw new Error(`cannot fetch the model bundle ${response.url}: HTTP ${response.status}`);
  }
  return new CreditScorer(new Uint8Array(await response.arrayBuffer()));
}

/** The scorer of the package's default model (fetched from `defaultModelUrl`). */
export function loadDefaultModel() {
  return loadModel(defaultModelUrl);
}
