// Assembles the npm package around the wasm-bindgen output. wasm-bindgen writes one glue file
// per target (nodejs: CommonJS, web: ES module), both `creditscore.js` over the same .wasm;
// this puts both in dist/ (the CommonJS one renamed .cjs, they then share one .wasm), adds the
// hand-written entries, README and default model, and writes package.json (wasm-bindgen writes
// none).
// Usage: node wasm/build-package.mjs <package dir> <nodejs glue dir> <web glue dir> <version> <model>
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [pkgDir, nodeGlue, webGlue, version, model] = process.argv.slice(2);
if (!model) {
  console.error('usage: node wasm/build-package.mjs <package dir> <nodejs glue dir> <web glue dir> <version> <model>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(pkgDir, 'dist');
rmSync(pkgDir, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
mkdirSync(join(pkgDir, 'model'));

const wasm = readFileSync(join(webGlue, 'creditscore_bg.wasm'));
if (!wasm.equals(readFileSync(join(nodeGlue, 'creditscore_bg.wasm')))) {
  throw new Error('the nodejs and web targets produced different .wasm files; they cannot share one');
}
writeFileSync(join(dist, 'creditscore_bg.wasm'), wasm);
copyFileSync(join(webGlue, 'creditscore.js'), join(dist, 'creditscore.js'));
copyFileSync(join(webGlue, 'creditscore.d.ts'), join(dist, 'creditscore.d.ts'));
copyFileSync(join(nodeGlue, 'creditscore.js'), join(dist, 'creditscore.cjs'));
copyFileSync(join(nodeGlue, 'creditscore.d.ts'), join(dist, 'creditscore.d.cts'));
for (const file of ['node.cjs', 'node.mjs', 'node.d.cts', 'node.d.mts', 'index.js', 'index.d.ts', 'records.js']) {
  copyFileSync(join(here, 'js', file), join(dist, file));
}
// records.js is an ES module with one export and no import; the Node entry (CommonJS) needs it
// as CommonJS.
const records = readFileSync(join(here, 'js', 'records.js'), 'utf8');
const exported = /^export function (\w+)\(/gm;
const names = [...records.matchAll(exported)].map((m) => m[1]);
if (names.length !== 1 || /^\s*(import|export)\b(?! function)/m.test(records)) {
  throw new Error('wasm/js/records.js must have exactly one `export function` and no other import or export');
}
writeFileSync(
  join(dist, 'records.cjs'),
  `'use strict';\n${records.replace(exported, 'function $1(')}\nmodule.exports = { ${names[0]} };\n`,
);
copyFileSync(join(here, 'README.md'), join(pkgDir, 'README.md'));
if (existsSync(model)) {
  copyFileSync(model, join(pkgDir, 'model', 'default.csb'));
} else {
  // `make npm` refuses to pack without it; the demo page then reports that it cannot load it.
  console.warn(`warning: ${model} does not exist: the package has no default model`);
}

writeFileSync(
  join(pkgDir, 'package.json'),
  JSON.stringify(
    {
      name: 'creditscore',
      version,
      description:
        'Credit-default scoring in WebAssembly: validate a loan application, get the probability of default, the decision and SHAP explanations. Node (CommonJS and ESM), browsers and bundlers.',
      license: 'MIT',
      keywords: ['credit-scoring', 'webassembly', 'wasm', 'shap', 'lightgbm', 'xgboost', 'gradient-boosting'],
      type: 'module',
      main: './dist/node.cjs',
      module: './dist/index.js',
      types: './dist/index.d.ts',
      exports: {
        '.': {
          node: {
            import: { types: './dist/node.d.mts', default: './dist/node.mjs' },
            require: { types: './dist/node.d.cts', default: './dist/node.cjs' },
          },
          types: './dist/index.d.ts',
          default: './dist/index.js',
        },
        './model/default.csb': './model/default.csb',
        './wasm': './dist/creditscore_bg.wasm',
        './package.json': './package.json',
      },
      files: ['dist/', 'model/', 'README.md'],
      sideEffects: false,
      engines: { node: '>=18' },
    },
    null,
    2,
  ) + '\n',
);
