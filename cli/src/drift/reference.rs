//! Where the training-side distributions come from: the bundle's reference statistics
//! (percentiles and level shares, enough for every statistic, KS approximate), or a reference CSV
//! (the training sample itself: exact KS, and the reference scores computed with the bundle).
//!
//! Parquet is not read by this build: the `parquet`/`arrow` crates are far heavier to compile than
//! the rest of the CLI together. Convert with `pandas.read_parquet(p).to_csv(c, index=False)`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use creditscore_core::Bundle;
use creditscore_core::bundle::ReferenceDistribution;
use creditscore_core::drift::{CategoricalReference, NumericReference};
use creditscore_core::schema::{InputKind, RawValue};

use crate::error::CliError;

pub enum FeatureKind {
    Numeric { reference: NumericReference, sentinel: Option<f64> },
    Categorical { reference: CategoricalReference, aliases: BTreeMap<String, String> },
}

pub struct FeatureSpec {
    pub name: String,
    pub kind: FeatureKind,
}

pub struct ScoreReference {
    pub reference: NumericReference,
    pub refusal_rate: Option<f64>,
}

pub struct References {
    pub features: Vec<FeatureSpec>,
    pub score: Option<ScoreReference>,
    /// Human description of where the reference came from.
    pub origin: String,
    pub exact: bool,
    /// Features left out, with the reason.
    pub skipped: Vec<(String, String)>,
}

pub fn load(bundle: &Bundle, csv: Option<&Path>) -> Result<References, CliError> {
    match csv {
        Some(path) => {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            if ext == "parquet" || ext == "pq" {
                return Err(CliError::Usage(format!(
                    "{}: Parquet references are not supported by this build; convert to CSV, e.g. \
                     `pandas.read_parquet(p).to_csv(\"ref.csv\", index=False)`",
                    path.display()
                )));
            }
            from_csv(bundle, path)
        }
        None => from_bundle(bundle),
    }
}

fn input_aliases(bundle: &Bundle, name: &str) -> BTreeMap<String, String> {
    match bundle.schema.input(name).map(|f| &f.kind) {
        Some(InputKind::Categorical(c)) => c.aliases.clone(),
        _ => BTreeMap::new(),
    }
}

fn input_sentinel(bundle: &Bundle, name: &str) -> Option<f64> {
    match bundle.schema.input(name).map(|f| &f.kind) {
        Some(InputKind::Numeric(n)) => n.sentinel,
        _ => None,
    }
}

fn from_bundle(bundle: &Bundle) -> Result<References, CliError> {
    let Some(stats) = &bundle.reference else {
        return Err(CliError::Usage(String::from(
            "the bundle has no reference statistics; pass --reference REF.csv (the training sample)",
        )));
    };
    let mut features = Vec::new();
    let mut skipped = Vec::new();
    for f in &stats.features {
        let Some(input) = bundle.schema.input(&f.name) else {
            skipped.push((f.name.clone(), String::from("not a client input, so not in the logs")));
            continue;
        };
        let same_kind = matches!(
            (&f.distribution, &input.kind),
            (ReferenceDistribution::Numeric { .. }, InputKind::Numeric(_))
                | (ReferenceDistribution::Categorical { .. }, InputKind::Categorical(_))
        );
        if !same_kind {
            skipped
                .push((f.name.clone(), String::from("reference type differs from the schema's input type")));
            continue;
        }
        let kind = match &f.distribution {
            ReferenceDistribution::Numeric { quantiles, mean, .. } => {
                if quantiles.len() < 2 {
                    skipped.push((f.name.clone(), String::from("reference has fewer than 2 quantiles")));
                    continue;
                }
                FeatureKind::Numeric {
                    reference: NumericReference::from_quantiles(quantiles, stats.rows, f.missing_rate, *mean),
                    sentinel: input_sentinel(bundle, &f.name),
                }
            }
            ReferenceDistribution::Categorical { levels, proportions } => {
                let non_missing = (stats.rows as f64 * (1.0 - f.missing_rate)).round() as u64;
                let mut shares = proportions.clone();
                shares.resize(levels.len(), 0.0);
                FeatureKind::Categorical {
                    reference: CategoricalReference {
                        levels: levels.clone(),
                        shares,
                        non_missing,
                        missing_rate: f.missing_rate,
                    },
                    aliases: input_aliases(bundle, &f.name),
                }
            }
        };
        features.push(FeatureSpec { name: f.name.clone(), kind });
    }
    let score = stats.score.as_ref().filter(|s| s.quantiles.len() >= 2).map(|s| ScoreReference {
        reference: NumericReference::from_quantiles(&s.quantiles, stats.rows, 0.0, f64::NAN),
        refusal_rate: Some(s.refusal_rate),
    });
    Ok(References {
        features,
        score,
        origin: format!(
            "bundle reference statistics ({} training rows; percentiles, so KS is approximate)",
            stats.rows
        ),
        exact: false,
        skipped,
    })
}

enum Column {
    Numeric { values: Vec<f64>, sentinel: Option<f64> },
    Categorical { levels: Vec<String>, aliases: BTreeMap<String, String>, counts: Vec<u64>, missing: u64 },
}

fn from_csv(bundle: &Bundle, path: &Path) -> Result<References, CliError> {
    let parse_err =
        |line: u64, e: csv::Error| CliError::Parse { path: PathBuf::from(path), line, reason: e.to_string() };
    let mut reader =
        csv::ReaderBuilder::new().flexible(false).from_path(path).map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(source) => CliError::Io { path: path.into(), source },
            other => CliError::Parse { path: path.into(), line: 1, reason: format!("{other:?}") },
        })?;
    let headers = reader.headers().map_err(|e| parse_err(1, e))?.clone();
    let schema = &bundle.schema;
    let mut columns: Vec<(usize, String, Column)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let Some(field) = schema.input(h) else { continue };
        let col = match &field.kind {
            InputKind::Numeric(n) => Column::Numeric { values: Vec::new(), sentinel: n.sentinel },
            InputKind::Categorical(c) => Column::Categorical {
                levels: c.levels.clone(),
                aliases: c.aliases.clone(),
                counts: vec![0; c.levels.len()],
                missing: 0,
            },
        };
        columns.push((i, h.to_owned(), col));
    }
    if columns.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: no column is an input of the bundle (expected names such as {})",
            path.display(),
            schema.inputs.iter().take(3).map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let id_column = headers.iter().position(|h| h == schema.id_field);
    let mut scores = Vec::new();
    let mut refused = 0u64;
    let mut unscorable = 0u64;
    let mut rows = 0u64;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(parse_err(rows + 2, e)),
        }
        rows += 1;
        for (i, _, col) in columns.iter_mut() {
            let cell = record.get(*i).unwrap_or("").trim();
            match col {
                Column::Numeric { values, sentinel } => {
                    let v = parse_number(cell);
                    values.push(if v.is_some() && v == *sentinel { f64::NAN } else { v.unwrap_or(f64::NAN) });
                }
                Column::Categorical { levels, aliases, counts, missing } => {
                    match resolve_level(cell, levels, aliases) {
                        Some(k) => counts[k] += 1,
                        None => *missing += 1,
                    }
                }
            }
        }
        // Reference scores: the bundle scores the training sample as it would a client.
        let record_ref = &record;
        let mut fields: Vec<(&str, RawValue<'_>)> = Vec::with_capacity(columns.len() + 1);
        fields.push((
            schema.id_field.as_str(),
            RawValue::Cell(id_column.and_then(|i| record_ref.get(i)).unwrap_or("0")),
        ));
        for (i, name, _) in &columns {
            fields.push((name.as_str(), RawValue::Cell(record_ref.get(*i).unwrap_or(""))));
        }
        match schema.validate(fields, "") {
            Ok(valid) => {
                let p = bundle.score(&valid).probability;
                if p >= bundle.threshold {
                    refused += 1;
                }
                scores.push(p);
            }
            Err(_) => unscorable += 1,
        }
    }
    let mut features = Vec::new();
    for (_, name, col) in columns {
        let kind = match col {
            Column::Numeric { values, sentinel } => {
                FeatureKind::Numeric { reference: NumericReference::from_values(values), sentinel }
            }
            Column::Categorical { levels, aliases, counts, missing } => FeatureKind::Categorical {
                reference: CategoricalReference::from_counts(levels, &counts, missing),
                aliases,
            },
        };
        features.push(FeatureSpec { name, kind });
    }
    let mut skipped: Vec<(String, String)> = schema
        .inputs
        .iter()
        .filter(|f| !features.iter().any(|s| s.name == f.name))
        .map(|f| (f.name.clone(), format!("no `{}` column in the reference CSV", f.name)))
        .collect();
    if unscorable > 0 {
        skipped.push((
            String::from("(reference scores)"),
            format!("{unscorable} of {rows} reference rows fail validation and are not scored"),
        ));
    }
    let score = (!scores.is_empty()).then(|| ScoreReference {
        refusal_rate: Some(refused as f64 / scores.len() as f64),
        reference: NumericReference::from_values(scores),
    });
    Ok(References {
        features,
        score,
        origin: format!("reference sample {} ({rows} rows; exact KS)", path.display()),
        exact: true,
        skipped,
    })
}

/// A CSV or log cell as a number: empty, NA, NaN and null are missing.
pub fn parse_number(cell: &str) -> Option<f64> {
    match cell {
        "" | "NA" | "NaN" | "nan" | "null" | "None" => None,
        s => s.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

/// Level index of a value, through the schema's aliases.
pub fn resolve_level(value: &str, levels: &[String], aliases: &BTreeMap<String, String>) -> Option<usize> {
    if value.is_empty() {
        return None;
    }
    levels.iter().position(|l| l == value).or_else(|| {
        let target = aliases.get(value)?;
        levels.iter().position(|l| l == target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_levels() {
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("inf"), None);
        let levels = vec![String::from("N"), String::from("Y")];
        let aliases = BTreeMap::from([(String::from("Yes"), String::from("Y"))]);
        assert_eq!(resolve_level("Y", &levels, &aliases), Some(1));
        assert_eq!(resolve_level("Yes", &levels, &aliases), Some(1));
        assert_eq!(resolve_level("maybe", &levels, &aliases), None);
        assert_eq!(resolve_level("", &levels, &aliases), None);
    }
}
