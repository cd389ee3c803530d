'use strict';
// Node entry (CommonJS). The wasm module is compiled and instantiated synchronously on require.
const fs = require('node:fs');
const path = require('node:path');
const { withFastRecords } = require('./records.cjs');
const CreditScorer = withFastRecords(require('./creditscore.cjs').CreditScorer);

/** Path of the default model bundle shipped in the package. */
const defaultModelPath = path.join(__dirname, '..', 'model', 'default.csb');

function isRemote(source) {
  const text = source instanceof URL ? source.href : source;
  return typeof text === 'string' && /^https?:\/\//i.test(text);
}

/** A scorer from bundle bytes, or from a file path or file: URL (read synchronously). */
function loadModelSync(source) {
  if (typeof source === 'string' || source instanceof URL) {
    return new CreditScorer(fs.readFileSync(source));
  }
  return new CreditScorer(source);
}

/** A scorer from bundle bytes, a file path, a file: URL, an http(s) URL or a fetch Response. */
async function loadModel(source) {
  if (isRemote(source)) {
    source = await fetch(source);
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) {
      throw new Error(`cannot fetch the model bundle ${source.url}: HTTP ${source.status}`);
    }
    return new CreditScorer(new Uint8Array(await source.arrayBuffer()));
  }
  if (typeof source === 'string' || source instanceof URL) {
    return new CreditScorer(await fs.promises.readFile(source));
  }
  return new CreditScorer(source);
}

/** The scorer of the package's default model. */
function loadDefaultModelSync() {
  return loadModelSync(defaultModelPath);
}

function loadDefaultModel() {
  return loadModel(defaultModelPath);
}

/** Nothing to do in Node (the module is ready on require); present so code runs unchanged in browsers. */
async function init() {}

// node.mjs re-exports these names for `import`, as Node's static analysis of this literal finds
// them: keep it a plain list of names.
module.exports = {
  CreditScorer,
  init,
  loadModel,
  loadModelSync,
  loadDefaultModel,
  loadDefaultModelSync,
  defaultModelPath,
};
