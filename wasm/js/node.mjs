// Node entry (ES module): the CommonJS entry's bindings, so that `import` and `require` in one
// program share a single wasm instance and one API. Node finds node.cjs's named exports by
// static analysis of its `module.exports = { ... }` literal (cjs-module-lexer, Node >= 12.20), so
// that literal must stay a plain list of names; tests/npm checks both entries export the same.
export * from './node.cjs';
