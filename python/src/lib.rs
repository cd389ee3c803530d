//! `creditscore._native`: the scoring core for Python. The `creditscore` package (python/creditscore)
//! turns pandas / pyarrow / dict inputs into columns and calls [`Bundle::score_columns`]; rows are
//! validated, scored and decided here, off the GIL and on every core, with the same core calls as
//! the CLI and the HTTP API (so the same bits, issue codes and paths).
use std::path::PathBuf;

use creditscore_core::CompiledModel;
use creditscore_core::bundle::BundleSpec;
use creditscore_core::import::{self, ImportOptions, Library};
use creditscore_core::predict::valid_threshold;
use creditscore_core::schema::{FieldIssue, InputKind, RawValue, Schema, SchemaSpec, ValidRecord};
use creditscore_core::service::invalid_records_message;
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyList, PyString};
use rayon::prelude::*;

/// Rows validated and scored per task (as the CLI's chunks).
const CHUNK_ROWS: usize = 4096;
/// Invalid rows whose issues are listed in a `ValidationError` (all are counted).
const MAX_INVALID_ROWS_LISTED: usize = 100;

/// A loaded model bundle, compiled once for batch scoring.
#[pyclass(frozen, module = "creditscore._native")]
struct Bundle {
    /// The bundle with its compiled trees; its TreeSHAP path data (as the CLI, the npm package
    /// and the service hold: the same SHAP bits) is built on the first call that explains, so
    /// loading a bundle only to score stays cheap.
    model: CompiledModel,
}

/// One input column: a float64 array (NaN = missing), or Python values taken as JSON values.
enum Column {
    Numbers(Vec<f64>),
    Values(Vec<Value>),
}

enum Value {
    Null,
    Number(f64),
    Text(String),
    Bool(bool),
    Composite,
}

impl Column {
    fn raw(&self, row: usize) -> RawValue<'_> {
        match self {
            Column::Numbers(v) if v[row].is_nan() => RawValue::Null,
            Column::Numbers(v) => RawValue::Number(v[row]),
            Column::Values(v) => match &v[row] {
                Value::Null => RawValue::Null,
                Value::Number(n) => RawValue::Number(*n),
                Value::Text(s) => RawValue::String(s),
                Value::Bool(b) => RawValue::Bool(*b),
                Value::Composite => RawValue::Composite,
            },
        }
    }
}

/// A Python value as the HTTP API would read it from JSON; float NaN (pandas' missing) is null.
fn value(item: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(if item.is_none() {
        Value::Null
    } else if item.is_instance_of::<PyBool>() {
        Value::Bool(item.extract()?)
    } else if item.is_instance_of::<PyFloat>() || item.is_instance_of::<PyInt>() {
        let n: f64 = item.extract()?;
        if n.is_nan() { Value::Null } else { Value::Number(n) }
    } else if let Ok(s) = item.cast::<PyString>() {
        Value::Text(s.to_cow()?.into_owned())
    } else {
        Value::Composite
    })
}

fn column(obj: &Bound<'_, PyAny>, n_rows: usize, name: &str) -> PyResult<Column> {
    let col = if let Ok(bytes) = obj.cast::<PyBytes>() {
        let bytes = bytes.as_bytes();
        if bytes.len() != n_rows * 8 {
            return Err(PyValueError::new_err(format!(
                "column `{name}`: {} bytes of float64, expected {}",
                bytes.len(),
                n_rows * 8
            )));
        }
        Column::Numbers(
            bytes.chunks_exact(8).map(|b| f64::from_ne_bytes(b.try_into().expect("8 bytes"))).collect(),
        )
    } else if let Ok(list) = obj.cast::<PyList>() {
        if list.len() != n_rows {
            return Err(PyValueError::new_err(format!(
                "column `{name}` has {} values, expected {n_rows}",
                list.len()
            )));
        }
        Column::Values(list.iter().map(|item| value(&item)).collect::<PyResult<_>>()?)
    } else {
        return Err(PyTypeError::new_err(format!("column `{name}`: expected bytes of float64 or a list")));
    };
    Ok(col)
}

type ReasonRow = (usize, usize, String, String, f64, String);

/// Reason codes wanted: how many, and for every row or only refused ones.
#[derive(Clone, Copy)]
struct Reasons {
    n: usize,
    all_rows: bool,
}

/// What a chunk of rows gave: scores of valid rows, or the issues of invalid ones.
#[derive(Default)]
struct Chunk {
    raw_score: Vec<f64>,
    probability: Vec<f64>,
    prediction: Vec<u8>,
    /// Score points of the bundle's scorecard scale.
    points: Vec<f64>,
    /// (row, field, code, message).
    warnings: Vec<(usize, String, String, String)>,
    /// (row, rank from 1, code, feature, contribution, sentence).
    reasons: Vec<ReasonRow>,
    /// With `explain`: per row, one SHAP value per model feature, then the bias.
    shap: Vec<f64>,
    invalid: Vec<Vec<FieldIssue>>,
}

/// Validates rows `rows` of the columns against `schema`, with the HTTP API's batch paths
/// (`data[i].FIELD`): every valid record, or the issues of every invalid row.
fn validate_rows(
    schema: &Schema,
    names: &[String],
    columns: &[Column],
    rows: std::ops::Range<usize>,
) -> Result<Vec<ValidRecord>, Vec<Vec<FieldIssue>>> {
    let mut valid: Vec<ValidRecord> = Vec::with_capacity(rows.len());
    let mut invalid = Vec::new();
    for row in rows {
        let fields = names.iter().zip(columns).map(|(n, c)| (n.as_str(), c.raw(row)));
        match schema.validate(fields, &format!("data[{row}].")) {
            Ok(v) => valid.push(v),
            Err(issues) => invalid.push(issues),
        }
    }
    if invalid.is_empty() { Ok(valid) } else { Err(invalid) }
}

/// `work` over every chunk of `CHUNK_ROWS` rows of `0..n_rows`, in input order, off the GIL:
/// on every core (`threads` None), or on a pool of `threads`.
fn par_chunks<T: Send>(
    py: Python<'_>,
    n_rows: usize,
    threads: Option<usize>,
    work: impl Fn(std::ops::Range<usize>) -> T + Sync,
) -> PyResult<Vec<T>> {
    let starts: Vec<usize> = (0..n_rows).step_by(CHUNK_ROWS).collect();
    let run = |start: &usize| work(*start..(*start + CHUNK_ROWS).min(n_rows));
    py.detach(|| match threads {
        Some(1) => Ok(starts.iter().map(run).collect()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|pool| pool.install(|| starts.par_iter().map(run).collect()))
            .map_err(|e| e.to_string()),
        None => Ok(starts.par_iter().map(run).collect()),
    })
    .map_err(PyValueError::new_err)
}

/// `creditscore.ValidationError` for `bad` invalid rows of `n_rows` (issues of the first
/// `MAX_INVALID_ROWS_LISTED` listed), as the HTTP API's 422 body.
fn validation_error<'a>(
    py: Python<'_>,
    invalid: impl Iterator<Item = &'a Vec<FieldIssue>>,
    bad: usize,
    n_rows: usize,
) -> PyErr {
    let details: Vec<(String, String, String, String)> = invalid
        .take(MAX_INVALID_ROWS_LISTED)
        .flatten()
        .map(|i| (i.path.clone(), code_name(&i.code), i.reason.clone(), i.expected.clone()))
        .collect();
    let message = invalid_records_message(bad, n_rows);
    errors_module(py)
        .and_then(|m| m.getattr("ValidationError"))
        .and_then(|class| class.call1(("validation_error", message, details, bad)))
        .map_or_else(|e| e, PyErr::from_value)
}

/// Columns from Python, checked against `n_rows`.
fn read_columns(names: &[String], columns: &[Bound<'_, PyAny>], n_rows: usize) -> PyResult<Vec<Column>> {
    if names.len() != columns.len() {
        return Err(PyValueError::new_err("one name per column"));
    }
    names.iter().zip(columns).map(|(n, c)| column(c, n_rows, n)).collect()
}

fn code_name<T: serde::Serialize>(code: &T) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

impl Bundle {
    fn score_range(
        &self,
        names: &[String],
        columns: &[Column],
        rows: std::ops::Range<usize>,
        threshold: f64,
        reasons: Reasons,
        explain: bool,
    ) -> Chunk {
        let mut out = Chunk::default();
        let valid = match validate_rows(self.model.bundle().schema(), names, columns, rows.clone()) {
            Ok(valid) => valid,
            Err(invalid) => {
                out.invalid = invalid;
                return out;
            }
        };
        let scores = self.model.score_records(&valid);
        let mut phi = Vec::new();
        for ((score, record), row) in scores.into_iter().zip(&valid).zip(rows) {
            let prediction = creditscore_core::Bundle::decide(score.probability, threshold);
            out.raw_score.push(score.raw_score);
            out.probability.push(score.probability);
            out.prediction.push(prediction);
            out.points.push(self.model.bundle().points(score.probability));
            for w in &record.warnings {
                out.warnings.push((row, w.field.clone(), code_name(&w.code), w.message.clone()));
            }
            // As `creditscore predict --explain --reasons N [--reasons-for all]`: exact TreeSHAP.
            let want_reasons = reasons.n > 0 && (prediction == 1 || reasons.all_rows);
            if explain || want_reasons {
                self.model.shap_values(record, &mut phi);
            }
            if explain {
                out.shap.extend_from_slice(&phi);
            }
            if want_reasons {
                for (rank, r) in
                    self.model.bundle().reasons_from_shap(record, &phi, reasons.n).into_iter().enumerate()
                {
                    out.reasons.push((row, rank + 1, r.code, r.feature, r.contribution, r.sentence));
                }
            }
        }
        out
    }
}

fn errors_module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("creditscore._errors")
}

/// Scores: raw_score, probability (float64 bytes), prediction (uint8 bytes), points (float64
/// bytes), warnings, reasons, SHAP values (float64 bytes, row-major n x (features + 1); empty
/// without `explain`).
type Scored<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Vec<(usize, String, String, String)>,
    Vec<ReasonRow>,
    Bound<'py, PyBytes>,
);

#[pymethods]
impl Bundle {
    /// Loads a bundle (.csb) file. Raises `creditscore.BundleError` for a file that is not a valid
    /// bundle, `OSError` when it cannot be read.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let bytes =
            std::fs::read(&path).map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))?;
        Self::from_bytes(py, &bytes).map_err(|e| {
            e.value(py).setattr("path", path.display().to_string()).map_or_else(|err| err, |()| e)
        })
    }

    /// A bundle from its bytes.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        match creditscore_core::Bundle::from_bytes(data) {
            Ok(bundle) => Ok(Bundle { model: CompiledModel::new(bundle) }),
            Err(e) => {
                let class = errors_module(py)?.getattr("BundleError")?;
                Err(PyErr::from_value(class.call1(("model_unavailable", e.to_string()))?))
            }
        }
    }

    /// The bundle's decision threshold (prediction = 1 when probability >= threshold).
    #[getter]
    fn threshold(&self) -> f64 {
        self.model.bundle().threshold().get()
    }

    #[getter]
    fn name(&self) -> String {
        self.model.bundle().meta().name.clone()
    }

    #[getter]
    fn version(&self) -> String {
        self.model.bundle().meta().version.clone()
    }

    /// The client id field (scored records may carry it; it is not a model input).
    #[getter]
    fn id_field(&self) -> String {
        self.model.bundle().schema().id_field.clone()
    }

    /// Input fields as (name, kind) with kind "numeric" or "categorical", in schema order.
    #[getter]
    fn inputs(&self) -> Vec<(String, &'static str)> {
        input_kinds(self.model.bundle().schema())
    }

    /// Model features in model order.
    #[getter]
    fn model_features(&self) -> Vec<String> {
        self.model.bundle().schema().model_features.clone()
    }

    /// The bundle's header as JSON text, whatever the file's format: `meta`, `schema`,
    /// `threshold`, `selection`, `reference` (the spec) and `model` (the trees' parameters), as
    /// docs/BUNDLE_FORMAT.md lists them.
    fn header_json(&self) -> PyResult<String> {
        self.model.bundle().header_json().map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The bundle's bytes in the current format (format 2, whatever format it was read from);
    /// with `spec` (JSON text: meta, schema, threshold, selection, reference), its trees with
    /// that spec instead. Raises `ValueError` when the spec is not JSON of that shape or does not
    /// fit the trees.
    #[pyo3(signature = (spec=None))]
    fn to_bytes<'py>(&self, py: Python<'py>, spec: Option<&str>) -> PyResult<Bound<'py, PyBytes>> {
        let mut bundle = self.model.bundle().clone();
        if let Some(spec) = spec {
            let spec: BundleSpec = serde_json::from_str(spec).map_err(|e| {
                PyValueError::new_err(format!(
                    "not a bundle spec (meta, schema, threshold, selection, reference): {e}"
                ))
            })?;
            let (_, trees) = bundle.into_parts();
            bundle = creditscore_core::Bundle::new(spec, trees)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        let bytes = bundle.to_bytes().map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The bundle's schema (to compute its model feature matrix).
    #[getter]
    fn schema(&self) -> PySchema {
        PySchema { schema: self.model.bundle().schema().clone() }
    }

    /// Validates and scores `n_rows` rows given as columns: `columns[j]` holds field `names[j]`,
    /// either as bytes of native float64 (NaN = missing) or a list of Python values read as JSON
    /// values (None or NaN = null). All rows are validated first; if any is invalid, raises
    /// `creditscore.ValidationError` (code "validation_error", details with HTTP API paths
    /// `data[i].FIELD`) and scores nothing. `threads`: None = every core, else that many.
    /// `reasons`: that many reason codes for refused rows (every row with `reasons_for_all`).
    /// `explain`: the SHAP values of every row too (as `creditscore predict --explain`).
    #[pyo3(signature = (names, columns, n_rows, threshold=None, threads=None, reasons=0, reasons_for_all=false, explain=false))]
    #[allow(clippy::too_many_arguments)]
    fn score_columns<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
        columns: Vec<Bound<'py, PyAny>>,
        n_rows: usize,
        threshold: Option<f64>,
        threads: Option<usize>,
        reasons: usize,
        reasons_for_all: bool,
        explain: bool,
    ) -> PyResult<Scored<'py>> {
        let reasons = Reasons {
            n: reasons.min(self.model.bundle().schema().num_model_features()),
            all_rows: reasons_for_all,
        };
        let threshold = threshold.unwrap_or(self.model.bundle().threshold().get());
        if !valid_threshold(threshold) {
            return Err(PyValueError::new_err(format!("threshold {threshold} is not in [0, 1]")));
        }
        let columns = read_columns(&names, &columns, n_rows)?;
        let chunks = par_chunks(py, n_rows, threads, |rows| {
            self.score_range(&names, &columns, rows, threshold, reasons, explain)
        })?;
        let bad: usize = chunks.iter().map(|c| c.invalid.len()).sum();
        if bad > 0 {
            return Err(validation_error(py, chunks.iter().flat_map(|c| &c.invalid), bad, n_rows));
        }
        let mut raw = Vec::with_capacity(n_rows * 8);
        let mut prob = Vec::with_capacity(n_rows * 8);
        let mut points = Vec::with_capacity(n_rows * 8);
        let mut pred = Vec::with_capacity(n_rows);
        let (mut warnings, mut reasons, mut shap) = (Vec::new(), Vec::new(), Vec::new());
        for c in chunks {
            raw.extend(c.raw_score.iter().flat_map(|v| v.to_ne_bytes()));
            prob.extend(c.probability.iter().flat_map(|v| v.to_ne_bytes()));
            points.extend(c.points.iter().flat_map(|v| v.to_ne_bytes()));
            pred.extend(c.prediction);
            warnings.extend(c.warnings);
            reasons.extend(c.reasons);
            shap.extend(c.shap.iter().flat_map(|v| v.to_ne_bytes()));
        }
        let bytes = |b: &[u8]| PyBytes::new(py, b);
        Ok((bytes(&raw), bytes(&prob), bytes(&pred), bytes(&points), warnings, reasons, bytes(&shap)))
    }
}

/// A schema (the `schema` of a bundle spec, or a bundle's): the model feature matrix of raw rows
/// as the core computes it at serving time, for training on exactly what is served.
#[pyclass(frozen, name = "Schema", module = "creditscore._native")]
struct PySchema {
    schema: Schema,
}

#[pymethods]
impl PySchema {
    /// A schema from its JSON text. Raises `ValueError` when it is not a schema or is unusable.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let spec: SchemaSpec =
            serde_json::from_str(text).map_err(|e| PyValueError::new_err(format!("not a schema: {e}")))?;
        let schema = Schema::try_from(spec).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PySchema { schema })
    }

    /// The schema as JSON text (as a bundle spec's `schema`).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.schema).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    #[getter]
    fn id_field(&self) -> String {
        self.schema.id_field.clone()
    }

    #[getter]
    fn inputs(&self) -> Vec<(String, &'static str)> {
        input_kinds(&self.schema)
    }

    #[getter]
    fn model_features(&self) -> Vec<String> {
        self.schema.model_features.clone()
    }

    /// The model features of `n_rows` rows given as columns (as `Bundle.score_columns`): bytes of
    /// native float64, row-major n x model features, NaN = missing, categories as level codes
    /// (`creditscore features`). Raises `ValidationError` (nothing computed) when a row is invalid.
    #[pyo3(signature = (names, columns, n_rows, threads=None))]
    fn features_columns<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
        columns: Vec<Bound<'py, PyAny>>,
        n_rows: usize,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let columns = read_columns(&names, &columns, n_rows)?;
        let chunks = par_chunks(py, n_rows, threads, |rows| {
            validate_rows(&self.schema, &names, &columns, rows)
                .map(|valid| valid.iter().flat_map(|v| &v.features).flat_map(|f| f.to_ne_bytes()).collect())
        })?;
        let bad: usize = chunks.iter().map(|c| c.as_ref().map_or_else(Vec::len, |_| 0)).sum();
        if bad > 0 {
            let invalid = chunks.iter().filter_map(|c| c.as_ref().err()).flatten();
            return Err(validation_error(py, invalid, bad, n_rows));
        }
        let matrix: Vec<u8> =
            chunks.into_iter().flat_map(|c: Result<Vec<u8>, _>| c.unwrap_or_default()).collect();
        Ok(PyBytes::new(py, &matrix))
    }
}

fn input_kinds(schema: &Schema) -> Vec<(String, &'static str)> {
    let kind = |k: &InputKind| match k {
        InputKind::Numeric(_) => "numeric",
        InputKind::Categorical(_) => "categorical",
    };
    schema.inputs.iter().map(|f| (f.name.clone(), kind(&f.kind))).collect()
}

/// A model file saved by `library` ("lightgbm", "xgboost", "sklearn") as bundle bytes, as
/// `creditscore import` writes them: `spec` is the training spec's JSON (without it every model
/// feature is an optional input and the threshold is 0.5); `name`, `version` and `created` fill
/// what the spec leaves out (`fallback_name`: the model file's stem). Raises
/// `creditscore.ModelImportError` (code `model_import_failed`) for a file or spec that cannot
/// become a bundle.
#[pyfunction]
#[pyo3(signature = (library, model, spec=None, name=None, version=None, fallback_name="model", created="", all_trees=false))]
#[allow(clippy::too_many_arguments)]
fn import_model<'py>(
    py: Python<'py>,
    library: &str,
    model: &[u8],
    spec: Option<&str>,
    name: Option<String>,
    version: Option<String>,
    fallback_name: &str,
    created: &str,
    all_trees: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let library = Library::from_name(library).ok_or_else(|| {
        PyValueError::new_err(format!("unknown library `{library}`: lightgbm, xgboost or sklearn"))
    })?;
    let fail = |message: String| {
        errors_module(py)
            .and_then(|m| m.getattr("ModelImportError"))
            .and_then(|class| class.call1(("model_import_failed", message)))
            .map_or_else(|e| e, PyErr::from_value)
    };
    let spec: Option<BundleSpec> = spec.map(serde_json::from_str).transpose().map_err(|e| {
        fail(format!("not a bundle spec (meta, schema, threshold, selection, reference): {e}"))
    })?;
    let imported = import::parse_model(library, model, &ImportOptions { all_trees })
        .map_err(|e| fail(format!("model file: {e}")))?;
    let bundle = imported.into_bundle(spec).map_err(|e| fail(e.to_string()))?;
    let mut bundle = import::complete_meta(bundle, name, version, fallback_name, created)
        .map_err(|e| fail(e.to_string()))?;
    let bytes = bundle.to_bytes().map_err(|e| fail(format!("cannot encode the bundle: {e}")))?;
    Ok(PyBytes::new(py, &bytes))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Bundle>()?;
    m.add_class::<PySchema>()?;
    m.add_function(wrap_pyfunction!(import_model, m)?)?;
    Ok(())
}
