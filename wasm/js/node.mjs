// Node entry (ES module). Re-exports the CommonJS entry so that `import` and `require` in one
// program share a single wasm instance.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cjs = require('./node.cjs');

export const {
  CreditScorer,
  init,
  loadModel,
  loadModelSync,
  loadDefaultModel,
  loadDefaultModelSync,
  defaultModelPath,
} = cjs;
