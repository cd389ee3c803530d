// Browser and bundler entry (ES module).
import { CreditScorer, InitInput } from './creditscore.js';

export * from './creditscore.js';

/** URL of the default model bundle shipped in the package. */
export declare const defaultModelUrl: URL;

/**
 * Fetches and instantiates the wasm module once; later calls share the same promise.
 * `wasm` defaults to the package's creditscore_bg.wasm next to this file.
 */
export declare function init(wasm?: InitInput | Promise<InitInput>): Promise<void>;

/** A scorer from bundle bytes, a URL or a fetch Response (calls `init()` first). */
export declare function loadModel(source: string | URL | Uint8Array | ArrayBuffer | Response): Promise<CreditScorer>;

/** The scorer of the package's default model (fetched from `defaultModelUrl`). */
export declare function loadDefaultModel(): Promise<CreditScorer>;
