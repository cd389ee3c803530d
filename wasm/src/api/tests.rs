use super::*;
use creditscore_core::schema::{NumericSpec, RawValue};
use creditscore_core::test_support::{sample_bundle_with, sample_tree};

/// The sample bundle with its first tree only: `x` numeric in [0, 1] (required, trained up to
/// 0.9), `c` categorical (optional).
pub(super) fn scorer() -> Scorer {
    let x = NumericSpec {
        valid_min: Some(0.0),
        valid_max: Some(1.0),
        train_max: Some(0.9),
        ..Default::default()
    };
    let mut bundle = sample_bundle_with(x, vec![sample_tree()]);
    let bytes = bundle.to_bytes().unwrap();
    Scorer::from_bytes(&bytes).unwrap()
}

fn json_record(s: &Scorer, v: serde_json::Value, prefix: &str) -> Result<ValidRecord, Vec<FieldIssue>> {
    s.bundle().schema().validate_json(&v, prefix)
}

#[test]
fn predict_uses_core_score_and_decision() {
    let s = scorer();
    let rec =
        json_record(&s, serde_json::json!({"SK_ID_CURR": 7, "x": 0.2, "c": "b"}), SINGLE_PREFIX).unwrap();
    let expected = s.bundle().score(&rec);
    let p = s.predict(rec, s.threshold(None).unwrap(), None);
    assert_eq!(p.sk_id_curr, Some(7));
    assert_eq!(p.raw_score.unwrap().to_bits(), expected.raw_score.to_bits());
    assert_eq!(p.probability.to_bits(), expected.probability.to_bits());
    assert_eq!(p.threshold, Some(0.4));
    assert_eq!(p.prediction, Bundle::decide(p.probability, 0.4));
    assert_eq!(p.score.to_bits(), s.bundle().points(p.probability).to_bits());
    assert_eq!(p.reasons.is_some(), p.prediction == 1, "reasons by default only when refused");
}

#[test]
fn reasons_count_is_checked_like_the_api() {
    let s = scorer();
    assert_eq!(s.reasons(None).unwrap(), None);
    assert_eq!(s.reasons(Some(2.0)).unwrap(), Some(2));
    for bad in [-1.0, 1.5, 3.0, f64::NAN] {
        assert_eq!(s.reasons(Some(bad)).unwrap_err().code(), "validation_error", "{bad}");
    }
    let rec = json_record(&s, serde_json::json!({"SK_ID_CURR": 7, "x": 0.9}), SINGLE_PREFIX).unwrap();
    let expected = s.bundle().reasons(&rec, 2);
    assert_eq!(s.predict(rec, 0.99, Some(2)).reasons, Some(expected));
}

#[test]
fn batch_gives_the_same_bits_as_one_by_one() {
    let s = scorer();
    let records: Vec<ValidRecord> = (0..150)
        .map(|i| {
            let x = f64::from(i) / 150.0;
            let c = if i % 3 == 0 { "a" } else { "b" };
            json_record(&s, serde_json::json!({"SK_ID_CURR": i, "x": x, "c": c}), "").unwrap()
        })
        .collect();
    let one_by_one: Vec<Prediction> = records.iter().map(|r| s.predict(r.clone(), 0.5, Some(1))).collect();
    assert_eq!(s.predict_many(records, 0.5, Some(1)), one_by_one);
}

#[test]
fn threshold_must_be_a_probability() {
    let s = scorer();
    assert_eq!(s.threshold(Some(0.0)).unwrap(), 0.0);
    assert_eq!(s.threshold(Some(1.0)).unwrap(), 1.0);
    for bad in [-0.1, 1.5, f64::NAN] {
        let err = s.threshold(Some(bad)).unwrap_err();
        assert_eq!(err.code(), "validation_error");
        assert_eq!(err.details()[0].path, "threshold");
        assert_eq!(err.details()[0].code, IssueCode::OutOfRange);
    }
}

#[test]
fn explanation_carries_id_and_warnings() {
    let s = scorer();
    let rec = json_record(&s, serde_json::json!({"SK_ID_CURR": 1, "x": 0.95}), "").unwrap();
    let e = s.explain(rec, 0.4);
    assert_eq!(e.sk_id_curr, Some(1));
    assert_eq!(e.warnings.as_ref().unwrap().len(), 1, "0.95 is outside the training range");
    let json = serde_json::to_value(&e).unwrap();
    assert!(json["contributions"].is_array() && json["base_value"].is_number(), "{json}");
    let missing = e.contributions.as_ref().unwrap().iter().find(|c| c.feature == "c").unwrap();
    assert_eq!(serde_json::to_value(&missing.value).unwrap(), serde_json::Value::Null);
}

#[test]
fn validation_reports_every_issue_without_failing() {
    let s = scorer();
    let fields = [("x", RawValue::Number(2.0)), ("cc", RawValue::String("a"))];
    let v = s.validation(s.check(fields, SINGLE_PREFIX));
    assert!(!v.valid);
    let paths: Vec<&str> = v.errors.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["data.cc", "data.SK_ID_CURR", "data.x"]);
    let ok = s.validation(s.check([("SK_ID_CURR", RawValue::Number(3.0)), ("x", RawValue::Number(0.1))], ""));
    assert!(ok.valid && ok.errors.is_empty());
}

#[test]
fn error_messages_name_the_fields() {
    let s = scorer();
    let err = ApiError::Validation(json_record(&s, serde_json::json!({"x": "0.3"}), "data[4].").unwrap_err());
    let text = err.to_string();
    assert!(text.starts_with("2 invalid fields: "), "{text}");
    assert!(text.contains("data[4].x: got a string"), "{text}");
    assert_eq!(batch_prefix(4), "data[4].");
    let bad = Scorer::from_bytes(b"not a bundle").err().unwrap();
    assert_eq!(bad.code(), "invalid_bundle");
    assert!(bad.to_string().contains("bad magic"), "{bad}");
}

#[test]
fn metadata_describes_the_bundle() {
    let s = scorer();
    let info = serde_json::to_value(s.info()).unwrap();
    assert_eq!(info["name"], "sample");
    assert_eq!(info["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(info["num_trees"], 1);
    assert_eq!(info["threshold"], 0.4);
}
