// Node entry, CommonJS (require); node.d.mts re-exports these for `import`.
import { CreditScorer } from './creditscore.cjs';

export * from './creditscore.cjs';

/** Path of the default model bundle shipped in the package. */
export declare const defaultModelPath: string;

/** Nothing to do in Node (the module is ready on import); present so code runs unchanged in browsers. */
export declare function init(): Promise<void>;

/** A scorer from bundle bytes, a file path, a file: URL, an http(s) URL or a fetch Response. */
export declare function loadModel(source: string | URL | Uint8Array | ArrayBuffer | Response): Promise<CreditScorer>;

/** A scorer from bundle bytes, or from a file path or file: URL (read synchronously). */
export declare function loadModelSync(source: string | URL | Uint8Array | ArrayBuffer): CreditScorer;

/** The scorer of the package's default model. */
export declare function loadDefaultModel(): Promise<CreditScorer>;
export declare function loadDefaultModelSync(): CreditScorer;
