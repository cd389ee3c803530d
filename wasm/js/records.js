// The JS half of the record path. Reading a JS object from wasm costs several calls across the
// JS/wasm boundary per field, and building the result object from wasm several more: most of a
// `score` call. Here a record is packed in plain JS into typed arrays (each value sorted by JS
// type and put at its field's position in the bundle's schema), crosses into wasm in one call,
// and the prediction comes back as numbers that JS puts into the result object. Every rule
// (types, ranges, levels, defaults, warnings, errors) stays in the Rust core: this file knows no
// field and checks no value (the packing is described in wasm/src/packed.rs).
//
// A record this cannot pack exactly (not a plain object, a key that is not a schema field, a
// getter or proxy that throws, a re-entrant call from a getter) goes through the generic path of
// the wasm class, which reads any JS value: same values, same errors either way. On that
// fallback, getters of the record may run a second time.
//
// wasm/build-package.mjs writes this file into the package twice: as an ES module and, with the
// `export` turned into `module.exports`, as CommonJS.

const ABSENT = 0;
const NULL = 1;
const NUMBER = 2;
const TEXT = 3;
const BOOL = 4;
const COMPOSITE = 5;
/** Numbers per field position, and per prediction (wasm/src/packed.rs). */
const SLOT_WIDTH = 3;
const PREDICTION_WIDTH = 6;
/** Most packed records staged in one call (about 700 KB of slots for the default model). */
const RUN_RECORDS = 256;

const encoder = new TextEncoder();

function isOptionalNumber(v) {
  return v === undefined || v === null || typeof v === 'number';
}

// The keys in the order of the generic path (the core's Prediction: alphabetical).
function prediction(out, at, extras) {
  const id = out[at];
  const p = { prediction: out[at + 3], probability: out[at + 1], raw_score: out[at + 4] };
  if (extras !== undefined && extras.reasons !== undefined) p.reasons = extras.reasons;
  p.score = out[at + 2];
  p.sk_id_curr = id < 0 ? null : id;
  p.threshold = out[at + 5];
  p.warnings = extras === undefined ? [] : extras.warnings;
  return p;
}

/**
 * The package's `CreditScorer`: the wasm-bindgen class `Base` with the fast record path in
 * `score`, `scoreBatch`, `explain`, `explainBatch` and `validate` (same signatures and results).
 */
export function withFastRecords(Base) {
  return class CreditScorer extends Base {
    /** Field name -> position (0 = the id field), built on first use. */
    #positions;
    #slots;
    #text = new Uint8Array(256);
    #textLength = 0;
    #out = new Float64Array(PREDICTION_WIDTH);
    /** Set while #slots / #text are being filled, and while a batch is being staged: a getter
     * of a record may call back into this scorer, which must then not touch them. */
    #busy = false;
    #staging = false;
    /** The key list of the last record packed, and its offsets (see #offsets). */
    #lastKeys = [];
    #lastOffsets = new Int32Array(0);
    /** Packed records of a batch waiting to be staged in wasm (RUN_RECORDS at most). */
    #runSlots;

    /** Packs `record` into `slots` from `base` (a record's width: #slots.length) and appends
     * its text to #text; false when it must take the generic path. */
    #pack(record, slots, base) {
      if (typeof record !== 'object' || record === null) return false;
      // The generic path's order: keys first (a revoked proxy throws here), then isArray.
      const keys = Reflect.ownKeys(record);
      if (Array.isArray(record)) return false;
      const offsets = this.#offsets(keys);
      // An unknown field or a label: an error whose place among the others depends on the key
      // order, which only the generic path keeps.
      if (offsets === undefined) return false;
      slots.fill(ABSENT, base, base + this.#slots.length);
      for (let k = 0; k < keys.length; k++) {
        if (offsets[k] < 0) continue; // symbols are not field names
        const key = keys[k];
        const at = base + offsets[k];
        const v = record[key];
        switch (typeof v) {
          case 'number':
            slots[at] = NUMBER;
            slots[at + 1] = v;
            break;
          case 'string':
            slots[at] = TEXT;
            slots[at + 1] = this.#textLength;
            slots[at + 2] = this.#encode(v);
            break;
          case 'undefined':
            // `document.all` is typeof 'undefined' without being undefined.
            if (v !== undefined) slots[at] = COMPOSITE;
            break;
          case 'boolean':
            slots[at] = BOOL;
            slots[at + 1] = v ? 1 : 0;
            break;
          case 'bigint':
            // 10n is the number 10 (the nearest double, as the generic path reads it).
            slots[at] = NUMBER;
            slots[at + 1] = Number(v);
            break;
          default:
            slots[at] = v === null ? NULL : COMPOSITE;
        }
      }
      return true;
    }

    /** Each key's slot offset (-1 for a symbol), or undefined when a key is not a field. The
     * records of a caller mostly share one key order: the last one's offsets are reused. */
    #offsets(keys) {
      const last = this.#lastKeys;
      if (keys.length === last.length) {
        let k = 0;
        while (k < keys.length && keys[k] === last[k]) k++;
        if (k === keys.length) return this.#lastOffsets;
      }
      const positions = this.#positions;
      const offsets = new Int32Array(keys.length);
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k];
        if (typeof key !== 'string') {
          offsets[k] = -1;
          continue;
        }
        const position = positions.get(key);
        if (position === undefined) return undefined;
        offsets[k] = SLOT_WIDTH * position;
      }
      this.#lastKeys = keys;
      this.#lastOffsets = offsets;
      return offsets;
    }

    /** Appends `s` as UTF-8 to #text; returns its byte length. */
    #encode(s) {
      const start = this.#textLength;
      if (start + 3 * s.length > this.#text.length) {
        const bigger = new Uint8Array(Math.max(2 * this.#text.length, start + 3 * s.length));
        bigger.set(this.#text.subarray(0, start));
        this.#text = bigger;
      }
      const text = this.#text;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        text[start + i] = c;
      }
      let length = i;
      if (i < s.length) length += encoder.encodeInto(s.slice(i), text.subarray(start + i)).written;
      this.#textLength = start + length;
      return length;
    }

    /** The packing layout, read from the wasm class on first use. */
    #layout() {
      if (this.#positions === undefined) {
        const names = super._fieldNames();
        this.#positions = new Map(names.map((name, i) => [name, i]));
        this.#slots = new Float64Array(SLOT_WIDTH * names.length);
      }
    }

    /** Packs `record` into #slots (and #text from its start) unless busy or it needs the
     * generic path; false then. With `slots` and `base`: into `slots` from `base`, its text
     * appended to #text. */
    #tryPack(record, slots, base) {
      if (this.#busy) return false;
      this.#busy = true;
      try {
        this.#layout();
        if (slots === undefined) {
          this.#textLength = 0;
          return this.#pack(record, this.#slots, 0);
        }
        return this.#pack(record, slots, base);
      } catch {
        // The generic path reads the record again and reports what it finds.
        return false;
      } finally {
        this.#busy = false;
      }
    }

    #packedText() {
      return this.#text.subarray(0, this.#textLength);
    }

    score(record, threshold, reasons) {
      if (!isOptionalNumber(threshold) || !isOptionalNumber(reasons) || !this.#tryPack(record)) {
        return super.score(record, threshold, reasons);
      }
      const extras = super._scorePacked(this.#slots, this.#packedText(), threshold, reasons, this.#out);
      return prediction(this.#out, 0, typeof extras === 'string' ? JSON.parse(extras) : extras);
    }

    explain(record, threshold) {
      if (!isOptionalNumber(threshold) || !this.#tryPack(record)) return super.explain(record, threshold);
      return super._explainPacked(this.#slots, this.#packedText(), threshold);
    }

    validate(record) {
      if (!this.#tryPack(record)) return super.validate(record);
      return super._validatePacked(this.#slots, this.#packedText());
    }

    /** Stages every record of `records` in the wasm batch; returns how many, or -1 when the
     * generic batch path must run instead (which then reports any error exactly). Packed records
     * are staged in runs (one wasm call per run: each call copies its arguments into wasm). */
    #stage(records, threshold, reasons) {
      if (this.#busy || this.#staging) return -1;
      let length;
      try {
        // As the generic path: own keys first (a throwing proxy), then isArray, then length.
        Reflect.ownKeys(records);
        if (!Array.isArray(records)) return -1;
        length = records.length;
      } catch {
        return -1;
      }
      super._batchStart(threshold, reasons);
      this.#staging = true;
      try {
        this.#layout();
        const width = this.#slots.length;
        const run = Math.max(1, Math.min(length, RUN_RECORDS));
        if (this.#runSlots === undefined || this.#runSlots.length < run * width) {
          this.#runSlots = new Float64Array(run * width);
        }
        let staged = 0;
        this.#textLength = 0;
        const flush = () => {
          if (staged > 0) super._batchAdd(this.#runSlots.subarray(0, staged * width), this.#packedText());
          staged = 0;
          this.#textLength = 0;
        };
        for (let i = 0; i < length; i++) {
          const record = records[i];
          if (this.#tryPack(record, this.#runSlots, staged * width)) {
            if (++staged * width === this.#runSlots.length) flush();
          } else {
            // In order: the records before it first (a getter of this one may score, which
            // reuses #text).
            flush();
            super._batchAddValue(record);
          }
        }
        flush();
      } catch {
        return -1;
      } finally {
        this.#staging = false;
      }
      return length;
    }

    scoreBatch(records, threshold, reasons) {
      const n =
        isOptionalNumber(threshold) && isOptionalNumber(reasons) && typeof records === 'object' && records !== null
          ? this.#stage(records, threshold, reasons)
          : -1;
      if (n < 0) return super.scoreBatch(records, threshold, reasons);
      const out = new Float64Array(PREDICTION_WIDTH * n);
      let extras = super._batchScore(out);
      if (typeof extras === 'string') extras = JSON.parse(extras);
      const results = new Array(n);
      let e = 0;
      for (let i = 0; i < n; i++) {
        const x = extras !== undefined && e < extras.length && extras[e].index === i ? extras[e++] : undefined;
        results[i] = prediction(out, PREDICTION_WIDTH * i, x);
      }
      return results;
    }

    explainBatch(records, threshold) {
      const n =
        isOptionalNumber(threshold) && typeof records === 'object' && records !== null
          ? this.#stage(records, threshold, undefined)
          : -1;
      return n < 0 ? super.explainBatch(records, threshold) : super._batchExplain();
    }
  };
}
