//! `creditscore._native`: the scoring core for Python. The `creditscore` package (python/creditscore)
//! turns pandas / pyarrow / dict inputs into columns and calls [`Bundle::score_columns`]; rows are
//! validated, scored and decided here, off the GIL and on every core, with the same core calls as
//! the CLI and the HTTP API (so the same bits, issue codes and paths).
use std::path::PathBuf;

use creditscore_core::ensemble::FlatForest;
use creditscore_core::predict::valid_threshold;
use creditscore_core::schema::{FieldIssue, InputKind, RawValue, ValidRecord};
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
    bundle: creditscore_core::Bundle,
    compiled: Option<FlatForest>,
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
    invalid: Vec<Vec<FieldIssue>>,
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
    ) -> Chunk {
        let schema = &self.bundle.schema;
        let mut out = Chunk::default();
        let mut valid: Vec<ValidRecord> = Vec::with_capacity(rows.len());
        for row in rows.clone() {
            let fields = names.iter().zip(columns).map(|(n, c)| (n.as_str(), c.raw(row)));
            // Paths as in a batch request to the HTTP API: data[i].FIELD.
            match schema.validate(fields, &format!("data[{row}].")) {
                Ok(v) => valid.push(v),
                Err(issues) => out.invalid.push(issues),
            }
        }
        if !out.invalid.is_empty() {
            return out;
        }
        let scores = self.bundle.score_records(self.compiled.as_ref(), &valid);
        let mut phi = Vec::new();
        for ((score, record), row) in scores.into_iter().zip(&valid).zip(rows) {
            let prediction = creditscore_core::Bundle::decide(score.probability, threshold);
            out.raw_score.push(score.raw_score);
            out.probability.push(score.probability);
            out.prediction.push(prediction);
            out.points.push(self.bundle.points(score.probability));
            for w in &record.warnings {
                out.warnings.push((row, w.field.clone(), code_name(&w.code), w.message.clone()));
            }
            // As `creditscore predict --reasons N [--reasons-for all]`: from exact TreeSHAP.
            if reasons.n > 0 && (prediction == 1 || reasons.all_rows) {
                self.bundle.shap_values(record, &mut phi);
                for (rank, r) in
                    self.bundle.reasons_from_shap(record, &phi, reasons.n).into_iter().enumerate()
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
/// bytes), warnings, reasons.
type Scored<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Vec<(usize, String, String, String)>,
    Vec<ReasonRow>,
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
            Ok(bundle) => {
                let compiled = bundle.ensemble.flatten();
                Ok(Bundle { bundle, compiled })
            }
            Err(e) => {
                let class = errors_module(py)?.getattr("BundleError")?;
                Err(PyErr::from_value(class.call1(("model_unavailable", e.to_string()))?))
            }
        }
    }

    /// The bundle's decision threshold (prediction = 1 when probability >= threshold).
    #[getter]
    fn threshold(&self) -> f64 {
        self.bundle.threshold
    }

    #[getter]
    fn name(&self) -> String {
        self.bundle.meta.name.clone()
    }

    #[getter]
    fn version(&self) -> String {
        self.bundle.meta.version.clone()
    }

    /// The client id field (scored records may carry it; it is not a model input).
    #[getter]
    fn id_field(&self) -> String {
        self.bundle.schema.id_field.clone()
    }

    /// Input fields as (name, kind) with kind "numeric" or "categorical", in schema order.
    #[getter]
    fn inputs(&self) -> Vec<(String, &'static str)> {
        let kind = |k: &InputKind| match k {
            InputKind::Numeric(_) => "numeric",
            InputKind::Categorical(_) => "categorical",
        };
        self.bundle.schema.inputs.iter().map(|f| (f.name.clone(), kind(&f.kind))).collect()
    }

    /// Model features in model order.
    #[getter]
    fn model_features(&self) -> Vec<String> {
        self.bundle.schema.model_features.clone()
    }

    /// Validates and scores `n_rows` rows given as columns: `columns[j]` holds field `names[j]`,
    /// either as bytes of native float64 (NaN = missing) or a list of Python values read as JSON
    /// values (None or NaN = null). All rows are validated first; if any is invalid, raises
    /// `creditscore.ValidationError` (code "validation_error", details with HTTP API paths
    /// `data[i].FIELD`) and scores nothing. `threads`: None = every core, else that many.
    /// `reasons`: that many reason codes for refused rows (every row with `reasons_for_all`).
    #[pyo3(signature = (names, columns, n_rows, threshold=None, threads=None, reasons=0, reasons_for_all=false))]
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
    ) -> PyResult<Scored<'py>> {
        let reasons =
            Reasons { n: reasons.min(self.bundle.schema.num_model_features()), all_rows: reasons_for_all };
        if names.len() != columns.len() {
            return Err(PyValueError::new_err("one name per column"));
        }
        let threshold = threshold.unwrap_or(self.bundle.threshold);
        if !valid_threshold(threshold) {
            return Err(PyValueError::new_err(format!("threshold {threshold} is not in [0, 1]")));
        }
        let columns: Vec<Column> =
            names.iter().zip(&columns).map(|(n, c)| column(c, n_rows, n)).collect::<PyResult<_>>()?;
        let starts: Vec<usize> = (0..n_rows).step_by(CHUNK_ROWS).collect();
        let run = |start: &usize| {
            self.score_range(&names, &columns, *start..(*start + CHUNK_ROWS).min(n_rows), threshold, reasons)
        };
        let chunks: Vec<Chunk> = py
            .detach(|| match threads {
                Some(1) => Ok(starts.iter().map(run).collect()),
                Some(n) => rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map(|pool| pool.install(|| starts.par_iter().map(run).collect()))
                    .map_err(|e| e.to_string()),
                None => Ok(starts.par_iter().map(run).collect()),
            })
            .map_err(PyValueError::new_err)?;

        let bad: usize = chunks.iter().map(|c| c.invalid.len()).sum();
        if bad > 0 {
            let details: Vec<(String, String, String, String)> = chunks
                .iter()
                .flat_map(|c| &c.invalid)
                .take(MAX_INVALID_ROWS_LISTED)
                .flatten()
                .map(|i| (i.path.clone(), code_name(&i.code), i.reason.clone(), i.expected.clone()))
                .collect();
            let class = errors_module(py)?.getattr("ValidationError")?;
            let message = invalid_records_message(bad, n_rows);
            return Err(PyErr::from_value(class.call1(("validation_error", message, details, bad))?));
        }
        let mut raw = Vec::with_capacity(n_rows * 8);
        let mut prob = Vec::with_capacity(n_rows * 8);
        let mut points = Vec::with_capacity(n_rows * 8);
        let mut pred = Vec::with_capacity(n_rows);
        let (mut warnings, mut reasons) = (Vec::new(), Vec::new());
        for c in chunks {
            raw.extend(c.raw_score.iter().flat_map(|v| v.to_ne_bytes()));
            prob.extend(c.probability.iter().flat_map(|v| v.to_ne_bytes()));
            points.extend(c.points.iter().flat_map(|v| v.to_ne_bytes()));
            pred.extend(c.prediction);
            warnings.extend(c.warnings);
            reasons.extend(c.reasons);
        }
        let bytes = |b: &[u8]| PyBytes::new(py, b);
        Ok((bytes(&raw), bytes(&prob), bytes(&pred), bytes(&points), warnings, reasons))
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Bundle>()?;
    Ok(())
}
