// Shared by the npm runner and the tests: the README example client, CSV -> JSON records, and the
// prepared cases (written by run.mjs).
import { readFileSync } from 'node:fs';

/** The example clients of the original system's README (tests/fixtures/readme_clients.json, shared
 * with the Rust and Python tests): the single-request client first. */
export const README_CLIENTS = Object.freeze(
  JSON.parse(readFileSync(new URL('../fixtures/readme_clients.json', import.meta.url), 'utf8')).clients.map(
    (client) => Object.freeze(client),
  ),
);

/** The example client of the seed README, which the demo pre-fills. */
export const SEED_CLIENT = README_CLIENTS[0];

/** RFC 4180 CSV (quotes optional) -> array of rows of cells. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        cell += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else {
      cell += ch;
    }
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * CSV rows -> JSON lines typed by the bundle's `/features` document: category cells as strings,
 * numeric cells as JSON numbers written from the cell's own text (so the CLI and JSON.parse read
 * the same decimal), empty cells left out (missing).
 */
export function csvToRecords(text, featuresDoc) {
  const types = new Map();
  for (const f of [...featuresDoc.required, ...(featuresDoc.optional ?? []), ...(featuresDoc.known_not_used ?? [])]) {
    types.set(f.name, f.type);
  }
  if (featuresDoc.id_field) types.set(featuresDoc.id_field.name, 'integer');
  const [header, ...rows] = parseCsv(text);
  return rows.map((cells, r) => {
    const parts = [];
    header.forEach((name, c) => {
      const cell = cells[c] ?? '';
      if (cell === '') return;
      if (!types.has(name)) throw new Error(`rows.csv column ${name} is not an input of the bundle`);
      if (types.get(name) === 'category') {
        parts.push(`${JSON.stringify(name)}:${JSON.stringify(cell)}`);
      } else if (JSON_NUMBER.test(cell)) {
        parts.push(`${JSON.stringify(name)}:${cell}`);
      } else {
        throw new Error(`rows.csv row ${r + 2} column ${name}: ${cell} is not a JSON number`);
      }
    });
    return `{${parts.join(',')}}`;
  });
}

export function readJsonl(path) {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** What run.mjs prepared: parity cases, the seed client and the CLI's answers. */
export function loadCases() {
  const file = process.env.CREDITSCORE_CASES;
  if (!file) throw new Error('CREDITSCORE_CASES is not set: run the tests through tests/npm/run.mjs');
  return JSON.parse(readFileSync(file, 'utf8'));
}
