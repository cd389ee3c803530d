// The demo page: a form generated from the model's own input schema, scored client-side by the
// creditscore npm package (WebAssembly) on every keystroke. No scoring logic here: validation,
// probability, decision and contributions all come from the package.
import { loadDefaultModel } from './pkg/dist/index.js';

/** The example client of the original API's README: what the form starts with. */
const EXAMPLE = {
  SK_ID_CURR: 100002,
  EXT_SOURCE_2: 0.61,
  EXT_SOURCE_3: 0.75,
  AMT_ANNUITY: 24700.5,
  EXT_SOURCE_1: 0.45,
  CODE_GENDER: 'M',
  DAYS_EMPLOYED: -637,
  AMT_CREDIT: 406597.5,
  AMT_GOODS_PRICE: 351000.0,
  DAYS_BIRTH: -9461,
  FLAG_OWN_CAR: 'N',
};
const TOP_CONTRIBUTIONS = 8;
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const $ = (id) => document.getElementById(id);
const state = { scorer: null, threshold: 0.5, fields: new Map(), last: null };

main().catch((error) => fail(error));

async function main() {
  registerServiceWorker();
  state.scorer = await loadDefaultModel();
  const doc = state.scorer.features(true);
  describeModel(state.scorer.metadata);

  const idField = {
    name: doc.id_field.name,
    type: 'integer',
    nullable: false,
    expected: 'an integer client id, e.g. 100002',
    description: 'Client id: echoed back, never a model input',
  };
  addField($('required-fields'), idField, true);
  for (const f of doc.required) addField($('required-fields'), f, true);
  for (const f of doc.optional ?? []) addField($('optional-fields'), f, false);
  $('optional-count').textContent = `(${(doc.optional ?? []).length})`;
  fillExample();

  state.threshold = state.scorer.threshold;
  $('threshold-reset').textContent = `Use the model's threshold (${fmtThreshold(state.threshold)})`;
  $('client-form').addEventListener('input', update);
  $('client-form').addEventListener('change', update);
  $('client-form').addEventListener('submit', (e) => e.preventDefault());
  $('reset-example').addEventListener('click', () => {
    fillExample();
    update();
  });
  $('threshold').addEventListener('input', (e) => {
    state.threshold = Number(e.target.value);
    update();
  });
  $('threshold-reset').addEventListener('click', () => {
    state.threshold = state.scorer.threshold;
    update();
  });
  new ResizeObserver(() => state.last && renderChart(state.last)).observe($('chart'));
  update();
  document.body.dataset.state = 'ready';
}

function describeModel(meta) {
  const parts = [`Model <strong>${esc(meta.name)}</strong> ${esc(meta.version)}`, `${meta.num_trees} trees`];
  const auc = meta.metrics?.auc ?? meta.metrics?.test_auc ?? meta.metrics?.AUC;
  if (typeof auc === 'number') parts.push(`test AUC ${auc.toFixed(3)}`);
  parts.push(`threshold ${fmtThreshold(meta.threshold)}`);
  parts.push(`<span title="${esc(meta.sha256)}">sha256 ${esc(meta.sha256.slice(0, 12))}…</span>`);
  if (JSON.stringify(meta.training ?? '').toLowerCase().includes('synthetic')) {
    parts.push('<span class="tag">trained on synthetic data</span>');
  }
  $('model-line').innerHTML = parts.join(' · ');
}

/** One labelled input (select for categories), with its hint and error slots. */
function addField(container, f, required) {
  const id = `f-${f.name}`;
  const wrap = document.createElement('div');
  wrap.className = 'field';
  const label = document.createElement('label');
  label.htmlFor = id;
  label.innerHTML = `${esc(f.name)}${f.unit ? ` <span class="unit">${esc(f.unit)}</span>` : ''}`;
  let input;
  if (f.type === 'category') {
    input = document.createElement('select');
    const choices = [...f.levels];
    if (!required || f.nullable) input.append(new Option(required ? '(missing)' : '(default)', ''));
    for (const level of choices) input.append(new Option(level, level));
  } else {
    input = document.createElement('input');
    input.type = 'text';
    // Phone keyboards: a minus sign is needed for the negative day counts.
    const canBeNegative = !(f.valid_range && f.valid_range.min !== null && f.valid_range.min >= 0);
    input.inputMode = canBeNegative ? 'text' : 'decimal';
    input.spellcheck = false;
    if (!required && f.default !== undefined && f.default !== null) input.placeholder = `default ${f.default}`;
    else if (!required) input.placeholder = 'missing';
  }
  input.id = id;
  input.name = f.name;
  if (required && !f.nullable) input.required = true;
  const hint = document.createElement('p');
  hint.className = 'hint';
  hint.id = `${id}-hint`;
  hint.textContent = hintText(f);
  const error = document.createElement('p');
  error.className = 'error';
  error.id = `${id}-error`;
  input.setAttribute('aria-describedby', `${hint.id} ${error.id}`);
  wrap.append(label, input, hint, error);
  container.append(wrap);
  state.fields.set(f.name, { f, input, error, wrap, required });
}

function hintText(f) {
  const parts = [];
  if (f.description) parts.push(f.description);
  if (f.type === 'category') {
    parts.push(`one of ${f.levels.join(', ')}`);
  } else {
    parts.push(f.expected);
    const t = f.training_range;
    if (t && t.min !== null && t.max !== null) parts.push(`seen in training ${fmtNumber(t.min)} to ${fmtNumber(t.max)}`);
  }
  if (f.sentinel && !parts.join(' ').includes(String(f.sentinel.value))) {
    parts.push(`${f.sentinel.value} = not available`);
  }
  return parts.join(' · ');
}

function fillExample() {
  for (const [name, { input }] of state.fields) {
    input.value = name in EXAMPLE ? String(EXAMPLE[name]) : '';
  }
}

/** The form as a record: numbers as numbers, anything else passed on for the package to judge. */
function readRecord() {
  const record = {};
  for (const [name, { f, input }] of state.fields) {
    const raw = input.value.trim();
    if (raw === '') {
      if (input.tagName === 'SELECT' && f.nullable) record[name] = null;
      continue;
    }
    if (f.type === 'category') {
      record[name] = raw;
    } else {
      const text = /^[+-]?\d+,\d+$/.test(raw) ? raw.replace(',', '.') : raw;
      record[name] = PLAIN_NUMBER.test(text) ? Number(text) : raw;
    }
  }
  return record;
}

function update() {
  for (const { input, error, wrap } of state.fields.values()) {
    input.removeAttribute('aria-invalid');
    wrap.classList.remove('invalid');
    error.textContent = '';
  }
  const record = readRecord();
  let explanation;
  let prediction;
  try {
    explanation = state.scorer.explain(record, state.threshold);
    // Score points and, when refused, the reason codes (exact TreeSHAP, from the package).
    prediction = state.scorer.score(record, state.threshold);
  } catch (e) {
    if (e.code !== 'validation_error') throw e;
    showIssues(e.details, record);
    return;
  }
  state.last = explanation;
  render(explanation);
  renderReasons(prediction);
}

/** Score points beside the probability; the reasons of a refusal as sentences with their codes. */
function renderReasons(p) {
  const score = $('score');
  score.textContent = `${Math.round(p.score)} points`;
  score.dataset.value = String(p.score);
  const reasons = p.reasons ?? [];
  $('reasons-box').hidden = reasons.length === 0;
  $('reasons').replaceChildren(
    ...reasons.map((r) => {
      const li = document.createElement('li');
      li.dataset.code = r.code;
      const code = document.createElement('code');
      code.textContent = r.code;
      li.append(`${r.sentence} `, code);
      return li;
    }),
  );
}

function showIssues(issues, record) {
  let first = null;
  for (const issue of issues) {
    const name = issue.path.replace(/^data\./, '');
    const field = state.fields.get(name);
    if (!field) continue;
    field.input.setAttribute('aria-invalid', 'true');
    field.wrap.classList.add('invalid');
    const typedText = issue.code === 'wrong_type' && typeof record[name] === 'string' && field.f.type !== 'category';
    const reason = typedText ? `“${record[name]}” is not a number` : issue.reason;
    field.error.textContent = `${capitalise(reason)}: expected ${issue.expected}.`;
    if (!field.required) $('optional').open = true;
    first ??= name;
  }
  $('result').classList.add('stale');
  $('mini').className = 'mini stale';
  $('mini-probability').textContent = '–';
  $('mini-decision').textContent = 'fix the form';
  $('status').textContent =
    `${issues.length} field${issues.length === 1 ? '' : 's'} to fix (${first ?? 'see the form'}): the score below is for the last valid input.`;
  document.body.dataset.scored = 'invalid';
}

function render(e) {
  $('result').classList.remove('stale');
  const p = e.probability;
  const refuse = e.prediction === 1;
  const out = $('probability');
  out.textContent = `${(p * 100).toFixed(1)} %`;
  out.dataset.value = String(p);
  $('mini-probability').textContent = out.textContent;
  $('mini-decision').textContent = refuse ? 'Refuse' : 'Accept';
  $('mini').className = `mini ${refuse ? 'refuse' : 'accept'}`;
  const decision = $('decision');
  decision.textContent = refuse ? 'Refuse · predicted default' : 'Accept';
  decision.className = `decision ${refuse ? 'refuse' : 'accept'}`;
  decision.dataset.prediction = String(e.prediction);
  $('gauge-fill').style.width = `${(p * 100).toFixed(2)}%`;
  $('gauge-fill').className = `gauge-fill ${refuse ? 'refuse' : 'accept'}`;
  $('gauge-threshold').style.left = `${(e.threshold * 100).toFixed(2)}%`;
  $('threshold').value = String(e.threshold);
  $('threshold-value').textContent = fmtThreshold(e.threshold);
  const atModel = e.threshold === state.scorer.threshold;
  $('threshold-reset').hidden = atModel;
  $('status').textContent =
    `${refuse ? 'At or above' : 'Below'} the threshold ${fmtThreshold(e.threshold)}${atModel ? " (the model's business-optimal one)" : ''}. ` +
    `Log-odds ${fmtSigned(e.base_value)} for the average client, ${fmtSigned(e.raw_score)} for this one.`;
  renderChart(e);
  const warnings = $('warnings');
  warnings.replaceChildren(
    ...e.warnings.map((w) => {
      const li = document.createElement('li');
      li.textContent = `${w.field}: ${w.message}`;
      return li;
    }),
  );
  document.body.dataset.scored = 'valid';
}

/** Horizontal bars from a zero line, drawn at the container's pixel width (readable on phones). */
function renderChart(e) {
  const top = e.contributions.slice(0, TOP_CONTRIBUTIONS).map((c) => ({
    label: c.feature,
    value: fmtValue(c.value),
    contribution: c.contribution,
  }));
  const rest = e.contributions.slice(TOP_CONTRIBUTIONS);
  if (rest.length > 0) {
    const sum = rest.reduce((s, c) => s + c.contribution, 0);
    top.push({ label: `${rest.length} other features`, value: '', contribution: sum });
  }
  const chart = $('chart');
  const width = Math.max(280, Math.floor(chart.clientWidth || 560));
  const narrow = width < 520;
  const labelWidth = narrow ? 0 : Math.round(width * 0.4);
  const rowHeight = narrow ? 46 : 30;
  const barTop = narrow ? 22 : 6;
  const barHeight = 16;
  const plotX = narrow ? 0 : labelWidth + 10;
  const plotWidth = width - plotX;
  const textRoom = 52;
  const zero = plotX + plotWidth / 2;
  const maxAbs = Math.max(1e-12, ...top.map((r) => Math.abs(r.contribution)));
  const scale = (plotWidth / 2 - textRoom) / maxAbs;
  const height = top.length * rowHeight + 4;
  const parts = [];
  top.forEach((r, i) => {
    const y = i * rowHeight;
    const w = Math.max(1, Math.abs(r.contribution) * scale);
    const up = r.contribution >= 0;
    const x = up ? zero : zero - w;
    const label = r.value === '' ? r.label : `${r.label} = ${r.value}`;
    if (narrow) {
      parts.push(`<text class="label" x="0" y="${y + 15}">${esc(label)}</text>`);
    } else {
      parts.push(`<text class="label" x="${labelWidth}" y="${y + barTop + 12}" text-anchor="end">${esc(label)}</text>`);
    }
    parts.push(`<rect class="bar ${up ? 'up' : 'down'}" x="${x.toFixed(1)}" y="${y + barTop}" width="${w.toFixed(1)}" height="${barHeight}" rx="2"></rect>`);
    const tx = up ? x + w + 4 : x - 4;
    parts.push(`<text class="amount" x="${tx.toFixed(1)}" y="${y + barTop + 12}" text-anchor="${up ? 'start' : 'end'}">${fmtSigned(r.contribution)}</text>`);
  });
  parts.push(`<line class="zero" x1="${zero}" x2="${zero}" y1="0" y2="${height}"></line>`);
  const rows = top
    .map((r) => `<tr><th scope="row">${esc(r.label)}</th><td>${esc(r.value)}</td><td>${fmtSigned(r.contribution)}</td></tr>`)
    .join('');
  chart.innerHTML =
    `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" aria-hidden="true">${parts.join('')}</svg>` +
    `<div class="sr-only"><table><caption>Contributions to the log-odds, largest first</caption>` +
    `<tr><th scope="col">Feature</th><th scope="col">Value</th><th scope="col">Contribution</th></tr>${rows}</table></div>`;
}

function registerServiceWorker() {
  if ('serviceWorker' in navigator && location.protocol.startsWith('http')) {
    navigator.serviceWorker.register('sw.js').catch(() => {
      // Offline support is a bonus: the page works without it while online.
    });
  }
}

function fail(error) {
  document.body.dataset.state = 'error';
  $('model-line').textContent = `The model could not be loaded: ${error?.message ?? error}`;
  $('model-line').classList.add('failed');
  console.error(error);
}

function fmtValue(v) {
  if (v === null) return 'missing';
  if (typeof v === 'number') return fmtNumber(v);
  return String(v);
}

function fmtNumber(v) {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

function fmtSigned(v) {
  const s = Math.abs(v).toFixed(2);
  return v >= 0 ? `+${s}` : `−${s}`;
}

function fmtThreshold(t) {
  return String(Number(t.toFixed(4)));
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
