// Node entry, ES module (import): the same declarations as the CommonJS entry (node.d.cts).
export * from './node.cjs';
