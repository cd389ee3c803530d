//! Any request body validated against the default-like schema gives a record or a list of issues,
//! never a panic; valid records are scored.
// libfuzzer-sys supplies `main` (it drives the `fuzz_target!` body).
#![no_main]
use creditscore_core::Schema;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // Deserialising checks the schema (Schema: TryFrom<SchemaSpec>).
        serde_json::from_str(include_str!("../seeds/schema.json")).expect("seed schema is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let records: Vec<&serde_json::Value> = match &value {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for (i, record) in records.iter().enumerate() {
        match schema().validate_json(record, &format!("data[{i}].")) {
            Ok(valid) => assert_eq!(valid.features.len(), schema().model_features.len()),
            Err(issues) => assert!(!issues.is_empty()),
        }
    }
});
