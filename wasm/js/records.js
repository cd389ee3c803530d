// The JS half of the record path. Reading a JS object from wasm costs several calls across the
// JS/wasm boundary per field, and building the result object from wasm several more: most of a
// `score` call. Here a record is packed in plain JS into typed arrays (each value sorted by JS
// type and tagged with its field's position in the bundle's schema), copied into buffers the wasm
// class keeps in wasm memory, read there in one call, and the prediction comes back as numbers
// that JS puts into the result object. Every rule
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

const NULL = 1;
const NUMBER = 2;
const TEXT = 3;
const BOOL = 4;
const COMPOSITE = 5;
/** Numbers per field given, and per prediction (wasm/src/packed.rs). */
const FIELD_WIDTH = 4;
const PREDICTION_WIDTH = 6;
/** Numbers of packed records staged in one call (128 KB; at least one record's worth). */
const RUN_NUMBERS = 16 * 1024;

const encoder = new TextEncoder();

function isOptionalNumber(v) {
  return v === undefined || v === null || typeof v === 'number';
}

// The keys in the order of the generic path (the core's Prediction: alphabetical). One literal
// per shape: an object built key by key goes through a map transition per key.
function prediction(out, at, warnings, reasons) {
  const id = out[at] < 0 ? null : out[at];
  if (reasons === undefined) {
    return {
      prediction: out[at + 3],
      probability: out[at + 1],
      raw_score: out[at + 4],
      score: out[at + 2],
      sk_id_curr: id,
      threshold: out[at + 5],
      warnings,
    };
  }
  return {
    prediction: out[at + 3],
    probability: out[at + 1],
    raw_score: out[at + 4],
    reasons,
    score: out[at + 2],
    sk_id_curr: id,
    threshold: out[at + 5],
    warnings,
  };
}

/** Warnings from their JSON rows `[field, code, message]` (wasm/src/packed.rs `extras_to_js`),
 * as the core's Warning (keys in its order). */
function warningsOf(rows) {
  const warnings = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    warnings[i] = { field: row[0], code: row[1], message: row[2] };
  }
  return warnings;
}

/**
 * The package's `CreditScorer`: the wasm-bindgen class `Base` with the fast record path in
 * `score`, `scoreBatch`, `explain`, `explainBatch` and `validate` (same signatures and results).
 */
export function withFastRecords(Base) {
  return class CreditScorer extends Base {
    /** Field name -> position (0 = the id field), built on first use. */
    #positions;
    /** One packed record (the longest one: every field given). */
    #slots;
    #text = new Uint8Array(256);
    #textLength = 0;
    /** Set while #slots / #text are being filled, and while a batch is being staged: a getter
     * of a record may call back into this scorer, which must then not touch them. */
    #busy = false;
    #staging = false;
    /** The key list of the last record packed, and its positions (see #keyPositions). */
    #lastKeys = [];
    #lastPositions = new Int32Array(0);
    /** Packed records of a batch waiting to be staged in wasm. */
    #runSlots;
    /** The wasm class's buffers in wasm memory (wasm/src/lib.rs `Io`): the module's memory, the
     * buffers' addresses and sizes, and views over them (made again when the memory grows). */
    #memory;
    #ioAt;
    #ioSizes = [0, 0, 0];
    #ioSlots;
    #ioText;
    #ioOut;

    /** Packs `record` into `slots` from `base` (at most #slots.length numbers) and appends its
     * text to #text; returns where the record ends, or -1 when it must take the generic path. */
    #pack(record, slots, base) {
      if (typeof record !== 'object' || record === null) return -1;
      // The generic path's order: keys first (a revoked proxy throws here), then isArray. Own
      // string keys, enumerable or not, in Reflect.ownKeys' order: the generic path skips
      // symbol keys, and V8 answers this from the object's layout (Reflect.ownKeys takes a slow
      // path: 0.6 us against 0.02 us for an 11-field record, Node 20).
      const keys = Object.getOwnPropertyNames(record);
      if (Array.isArray(record)) return -1;
      const positions = this.#keyPositions(keys);
      // An unknown field or a label: an error whose place among the others depends on the key
      // order, which only the generic path keeps.
      if (positions === undefined) return -1;
      let at = base + 1;
      let k = 0;
      // Values by a for-in over the same keys while it yields them in `keys`' order (V8 then
      // reads each one straight from the object's layout instead of looking the key up); from
      // the first key it does not yield (not enumerable, or a symbol), by key. Each value is
      // read once either way.
      for (const key in record) {
        if (k === keys.length || key !== keys[k]) break;
        at = this.#put(slots, at, positions[k++], record[key]);
      }
      for (; k < keys.length; k++) {
        // Symbols are not field names.
        if (positions[k] >= 0) at = this.#put(slots, at, positions[k], record[keys[k]]);
      }
      slots[base] = (at - base - 1) / FIELD_WIDTH;
      return at;
    }

    /** Writes the field at `position` with value `v` from `slots[at]` (nothing for
     * `undefined`); returns where the next field goes. */
    #put(slots, at, position, v) {
      slots[at] = position;
      switch (typeof v) {
        case 'number':
          slots[at + 1] = NUMBER;
          slots[at + 2] = v;
          break;
        case 'string':
          slots[at + 1] = TEXT;
          slots[at + 2] = this.#textLength;
          slots[at + 3] = this.#encode(v);
          break;
        case 'undefined':
          // Absent (not sent); `document.all` is typeof 'undefined' without being undefined.
          if (v === undefined) return at;
          slots[at + 1] = COMPOSITE;
          break;
        case 'boolean':
          slots[at + 1] = BOOL;
          slots[at + 2] = v ? 1 : 0;
          break;
        case 'bigint':
          // 10n is the number 10 (the nearest double, as the generic path reads it).
          slots[at + 1] = NUMBER;
          slots[at + 2] = Number(v);
          break;
        default:
          slots[at + 1] = v === null ? NULL : COMPOSITE;
      }
      return at + FIELD_WIDTH;
    }

    /** Each key's field position (-1 for a symbol), or undefined when a key is not a field. The
     * records of a caller mostly share one key order: the last one's positions are reused. */
    #keyPositions(keys) {
      const last = this.#lastKeys;
      if (keys.length === last.length) {
        let k = 0;
        while (k < keys.length && keys[k] === last[k]) k++;
        if (k === keys.length) return this.#lastPositions;
      }
      const byName = this.#positions;
      const positions = new Int32Array(keys.length);
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k];
        if (typeof key !== 'string') {
          positions[k] = -1;
          continue;
        }
        const position = byName.get(key);
        if (position === undefined) return undefined;
        positions[k] = position;
      }
      this.#lastKeys = keys;
      this.#lastPositions = positions;
      return positions;
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
        this.#slots = new Float64Array(1 + FIELD_WIDTH * names.length);
      }
    }

    /** Packs `record` into #slots (and #text from its start) unless busy or it needs the
     * generic path; returns where it ends in #slots, or -1. With `slots` and `base`: into `slots`
     * from `base`, its text appended to #text. */
    #tryPack(record, slots, base) {
      if (this.#busy) return -1;
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
        return -1;
      } finally {
        this.#busy = false;
      }
    }

    /** Makes the wasm buffers at least this large. */
    #ioReserve(slots, text) {
      const sizes = this.#ioSizes;
      if (slots > sizes[0] || text > sizes[1] || sizes[2] === 0) {
        if (this.#memory === undefined) this.#memory = super._memory();
        this.#ioSizes = [Math.max(slots, sizes[0]), Math.max(text, sizes[1], 64), PREDICTION_WIDTH];
        this.#ioAt = super._io(...this.#ioSizes);
        this.#ioSlots = undefined;
      }
    }

    /** The views over the wasm buffers; after any wasm call, the memory may have grown (which
     * detaches the old views). */
    #ioViews() {
      if (this.#ioSlots === undefined || this.#ioSlots.byteLength === 0) {
        const buffer = this.#memory.buffer;
        const [slots, text, out] = this.#ioSizes;
        this.#ioSlots = new Float64Array(buffer, this.#ioAt[0], slots);
        this.#ioText = new Uint8Array(buffer, this.#ioAt[1], text);
        this.#ioOut = new Float64Array(buffer, this.#ioAt[2], out);
      }
    }

    /** Copies the first `length` numbers of `slots` and the text packed so far into the wasm
     * buffers. */
    #send(slots, length) {
      this.#ioReserve(length, this.#textLength);
      this.#ioViews();
      if (length < 512) {
        const to = this.#ioSlots;
        for (let i = 0; i < length; i++) to[i] = slots[i];
      } else {
        this.#ioSlots.set(slots.subarray(0, length));
      }
      const text = this.#text;
      const to = this.#ioText;
      for (let i = 0; i < this.#textLength; i++) to[i] = text[i];
    }

    score(record, threshold, reasons) {
      const end = isOptionalNumber(threshold) && isOptionalNumber(reasons) ? this.#tryPack(record) : -1;
      if (end < 0) return super.score(record, threshold, reasons);
      this.#send(this.#slots, end);
      const extras = super._scorePacked(end, this.#textLength, threshold, reasons);
      let result;
      if (extras === undefined) {
        this.#ioViews();
        result = prediction(this.#ioOut, 0, []);
      } else if (typeof extras === 'string') {
        const warnings = warningsOf(JSON.parse(extras));
        this.#ioViews();
        result = prediction(this.#ioOut, 0, warnings);
      } else {
        this.#ioViews();
        result = prediction(this.#ioOut, 0, extras.warnings, extras.reasons);
      }
      return result;
    }

    explain(record, threshold) {
      const end = isOptionalNumber(threshold) ? this.#tryPack(record) : -1;
      if (end < 0) return super.explain(record, threshold);
      this.#send(this.#slots, end);
      return super._explainPacked(end, this.#textLength, threshold);
    }

    validate(record) {
      const end = this.#tryPack(record);
      if (end < 0) return super.validate(record);
      this.#send(this.#slots, end);
      return super._validatePacked(end, this.#textLength);
    }

    /** Stages every record of `records` in the wasm batch; returns how many, or -1 when the
     * generic batch path must run instead (which then reports any error exactly). Packed records
     * are staged in runs (one wasm call per run of up to RUN_NUMBERS numbers). */
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
        const longest = this.#slots.length;
        if (this.#runSlots === undefined) {
          this.#runSlots = new Float64Array(Math.max(RUN_NUMBERS, longest));
        }
        const run = this.#runSlots;
        let used = 0;
        this.#textLength = 0;
        const flush = () => {
          if (used > 0) {
            this.#send(run, used);
            super._batchAdd(used, this.#textLength);
          }
          used = 0;
          this.#textLength = 0;
        };
        for (let i = 0; i < length; i++) {
          const record = records[i];
          if (used + longest > run.length) flush();
          const end = this.#tryPack(record, run, used);
          if (end >= 0) {
            used = end;
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
      const extras = super._batchScore(out);
      // Records with warnings or reasons, in order: [index, warnings] rows (JSON) or objects.
      const rows = typeof extras === 'string' ? JSON.parse(extras) : extras;
      const results = new Array(n);
      let e = 0;
      for (let i = 0; i < n; i++) {
        const x = rows !== undefined && e < rows.length ? rows[e] : undefined;
        if (x === undefined || (Array.isArray(x) ? x[0] : x.index) !== i) {
          results[i] = prediction(out, PREDICTION_WIDTH * i, []);
        } else {
          e++;
          results[i] = Array.isArray(x)
            ? prediction(out, PREDICTION_WIDTH * i, warningsOf(x[1]))
            : prediction(out, PREDICTION_WIDTH * i, x.warnings, x.reasons);
        }
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
