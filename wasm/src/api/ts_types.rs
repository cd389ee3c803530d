//! The package's TypeScript declarations (wasm/src/types.d.ts, added to the generated `.d.ts`) checked
//! against what the core's types serialise to: every key a result carries is declared, every
//! required field is present, every value has its declared type (numbers, strings, literals,
//! arrays, records, nested interfaces), and every declared field of a result interface is sent
//! by at least one result. A field added to or renamed in a core type without the declaration
//! (or the other way round) fails here.
//!
//! The declarations are a small subset of TypeScript (interfaces of `name?: type;` members,
//! unions, `T[]`, `Array<T>`, `Record<string, T>`, inline object types, literals); this reads
//! that subset only, and fails on anything else rather than passing it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;
use creditscore_core::service::features_document;

/// A declared member: its type text and whether it may be absent.
#[derive(Debug)]
struct Member {
    ty: String,
    optional: bool,
}

/// Members of an interface or inline object type; `index` is the value type of a
/// `[key: string]: T` signature.
#[derive(Debug, Default)]
struct Shape {
    members: BTreeMap<String, Member>,
    index: Option<String>,
}

fn strip_comments(ts: &str) -> String {
    let mut out = String::new();
    let mut rest = ts;
    loop {
        let block = rest.find("/*");
        let line = rest.find("//");
        match (block, line) {
            (Some(b), l) if l.is_none_or(|l| b < l) => {
                out.push_str(&rest[..b]);
                let end = rest[b..].find("*/").expect("closed comment") + b + 2;
                rest = &rest[end..];
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                rest = rest[l..].find('\n').map_or("", |e| &rest[l + e..]);
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// Splits `text` at `sep` where no bracket is open.
fn split_top(text: &str, sep: &[char]) -> Vec<String> {
    let (mut parts, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for ch in text.chars() {
        match ch {
            '{' | '(' | '<' | '[' => depth += 1,
            '}' | ')' | '>' | ']' => depth -= 1,
            _ => {}
        }
        if depth == 0 && sep.contains(&ch) {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    parts.push(cur);
    parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect()
}

fn parse_shape(body: &str) -> Shape {
    let mut shape = Shape::default();
    for member in split_top(body, &[';']) {
        let (name, ty) = member.split_once(':').unwrap_or_else(|| panic!("member `{member}`"));
        let (name, ty) = (name.trim(), ty.trim().to_owned());
        if name.starts_with('[') {
            // `[argument: string]: T`: the first colon is inside the brackets.
            let (_, value) = member.rsplit_once("]:").expect("index signature");
            shape.index = Some(value.trim().to_owned());
            continue;
        }
        let optional = name.ends_with('?');
        shape.members.insert(name.trim_end_matches('?').to_owned(), Member { ty, optional });
    }
    shape
}

/// Every `export interface Name { ... }` (not extending another type) of the declarations.
fn interfaces(ts: &str) -> BTreeMap<String, Shape> {
    let ts = strip_comments(ts);
    let mut out = BTreeMap::new();
    let mut rest = ts.as_str();
    while let Some(at) = rest.find("export interface ") {
        rest = &rest[at + "export interface ".len()..];
        let open = rest.find('{').expect("interface body");
        let head = rest[..open].trim();
        let mut depth = 0;
        let close = rest[open..]
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .expect("closed interface")
            .0
            + open;
        if !head.contains(" extends ") {
            out.insert(head.to_owned(), parse_shape(&rest[open + 1..close]));
        }
        rest = &rest[close..];
    }
    out
}

struct Checker {
    interfaces: BTreeMap<String, Shape>,
    /// Keys seen per interface, to find declared fields that nothing sends.
    seen: BTreeMap<String, BTreeSet<String>>,
}

impl Checker {
    fn check_shape(
        &mut self,
        shape_name: Option<&str>,
        shape: &Shape,
        v: &Value,
        at: &str,
    ) -> Result<(), String> {
        let Value::Object(map) = v else { return Err(format!("{at}: {v} is not an object")) };
        for (key, value) in map {
            let ty = match (shape.members.get(key), &shape.index) {
                (Some(m), _) => m.ty.clone(),
                (None, Some(index)) => index.clone(),
                (None, None) => return Err(format!("{at}.{key}: sent but not declared")),
            };
            if let Some(name) = shape_name {
                self.seen.entry(name.to_owned()).or_default().insert(key.clone());
            }
            self.check_type(&ty, value, &format!("{at}.{key}"))?;
        }
        for (name, m) in &shape.members {
            if !m.optional && !map.contains_key(name) {
                return Err(format!("{at}.{name}: declared required but not sent"));
            }
        }
        Ok(())
    }

    fn check_type(&mut self, ty: &str, v: &Value, at: &str) -> Result<(), String> {
        let alternatives = split_top(ty, &['|']);
        let mut errors = Vec::new();
        for alt in &alternatives {
            match self.check_one(alt, v, at) {
                Ok(()) => return Ok(()),
                Err(e) => errors.push(e),
            }
        }
        Err(format!("{at}: {v} is not `{ty}` ({})", errors.join("; ")))
    }

    fn check_one(&mut self, ty: &str, v: &Value, at: &str) -> Result<(), String> {
        let ok = |b: bool| if b { Ok(()) } else { Err(format!("not {ty}")) };
        let element =
            ty.strip_suffix("[]").or_else(|| ty.strip_prefix("Array<").and_then(|t| t.strip_suffix('>')));
        if let Some(inner) = element {
            let Value::Array(items) = v else { return Err("not an array".into()) };
            return items
                .iter()
                .enumerate()
                .try_for_each(|(i, x)| self.check_type(inner, x, &format!("{at}[{i}]")));
        }
        if let Some(inner) = ty.strip_prefix("Record<string,").and_then(|t| t.strip_suffix('>')) {
            let Value::Object(map) = v else { return Err("not an object".into()) };
            return map.iter().try_for_each(|(k, x)| self.check_type(inner.trim(), x, &format!("{at}.{k}")));
        }
        if let Some(body) = ty.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            let shape = parse_shape(body);
            return self.check_shape(None, &shape, v, at);
        }
        match ty {
            "number" => ok(v.is_number()),
            "string" => ok(v.is_string()),
            "boolean" => ok(v.is_boolean()),
            "null" => ok(v.is_null()),
            "unknown" => Ok(()),
            lit if lit.starts_with('"') => ok(v.as_str() == Some(lit.trim_matches('"'))),
            lit if lit.parse::<f64>().is_ok() => ok(v.as_f64() == lit.parse::<f64>().ok()),
            name => {
                let Some(shape) = self.interfaces.remove(name) else {
                    return Err(format!("type `{name}` is not declared"));
                };
                let result = self.check_shape(Some(name), &shape, v, at);
                self.interfaces.insert(name.to_owned(), shape);
                result
            }
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn typescript_declarations_match_what_the_core_types_send() {
    let s = super::tests::scorer();
    let record = |v: Value| s.bundle().schema().validate_json(&v, SINGLE_PREFIX).unwrap();
    // Refused with reasons, accepted without (default and 0 asked), a warning, a missing category.
    let refused = s.predict(record(serde_json::json!({"SK_ID_CURR": 7, "x": 0.9, "c": "b"})), 0.0, Some(2));
    assert!(refused.reasons.as_ref().is_some_and(|r| !r.is_empty()), "a result with reasons is checked");
    let accepted = s.predict(record(serde_json::json!({"SK_ID_CURR": 8, "x": 0.95})), 1.0, None);
    let no_reasons =
        s.predict(record(serde_json::json!({"SK_ID_CURR": 9, "x": 0.1, "c": "a"})), 0.5, Some(0));
    let explained = s.explain(record(serde_json::json!({"SK_ID_CURR": 1, "x": 0.95})), 0.4);
    let valid =
        s.validation(s.check([("SK_ID_CURR", RawValue::Number(3.0)), ("x", RawValue::Number(0.95))], ""));
    let invalid = s.validation(s.check([("x", RawValue::Number(2.0))], SINGLE_PREFIX));
    let samples: Vec<(&str, Value)> = vec![
        ("Prediction", json(&refused)),
        ("Prediction", json(&accepted)),
        ("Prediction", json(&no_reasons)),
        ("Explanation", json(&explained)),
        ("ValidationResult", json(&valid)),
        ("ValidationResult", json(&invalid)),
        ("ModelMetadata", {
            // `training` is added by the JS half (parsed from the bundle's JSON text).
            let mut info = json(&s.info());
            info["training"] = s.bundle().meta().training.to_value().unwrap();
            info
        }),
        ("FeaturesDocument", json(&features_document(s.bundle(), false))),
        ("FeaturesDocument", json(&features_document(s.bundle(), true))),
    ];
    let mut samples = samples;
    // Every issue and warning code the core has (a new variant must be added here, and then to
    // the declarations).
    use creditscore_core::schema::{IssueCode as I, WarningCode as W};
    for code in [
        I::NotAnObject,
        I::MissingRequired,
        I::WrongType,
        I::NotInteger,
        I::NotFinite,
        I::OutOfRange,
        I::UnknownCategory,
        I::UnknownField,
        I::LabelNotInput,
        I::TooManyIssues,
    ] {
        let issue = FieldIssue { path: "data.x".into(), code, reason: "r".into(), expected: "e".into() };
        samples.push(("FieldIssue", json(&issue)));
    }
    for code in [W::OutsideTrainingRange, W::SentinelValue, W::UnknownCategoryAsMissing] {
        let warning = Warning { field: "x".into(), code, message: "m".into() };
        samples.push(("Warning", json(&warning)));
    }
    let mut checker =
        Checker { interfaces: interfaces(include_str!("../types.d.ts")), seen: BTreeMap::new() };
    for name in ["Prediction", "Explanation", "Contribution", "Reason", "Warning", "FieldIssue"] {
        assert!(checker.interfaces.contains_key(name), "interface {name} is declared");
    }
    for (name, value) in &samples {
        if let Err(e) = checker.check_type(name, value, name) {
            panic!("{e}");
        }
    }
    // Every field the result interfaces declare is sent by some result.
    for name in ["Prediction", "Explanation", "Reason", "Warning", "FieldIssue", "Contribution"] {
        let declared: BTreeSet<String> = checker.interfaces[name].members.keys().cloned().collect();
        let seen = checker.seen.get(name).cloned().unwrap_or_default();
        assert_eq!(seen, declared, "fields of {name} sent vs declared");
    }
}

#[test]
fn the_checker_rejects_what_the_declarations_do_not_allow() {
    let mut checker = Checker {
        interfaces: interfaces(
            "export interface A {\n  /** x */\n  n: number;\n  k?: 0 | 1;\n  l: Array<{ a: string | null }>;\n}",
        ),
        seen: BTreeMap::new(),
    };
    let good = serde_json::json!({"n": 1.5, "k": 1, "l": [{"a": null}, {"a": "s"}]});
    assert_eq!(checker.check_type("A", &good, "A"), Ok(()));
    for bad in [
        serde_json::json!({"n": "1", "l": []}),
        serde_json::json!({"l": []}),
        serde_json::json!({"n": 1, "k": 2, "l": []}),
        serde_json::json!({"n": 1, "l": [{"a": 3}]}),
        serde_json::json!({"n": 1, "l": [], "extra": true}),
    ] {
        assert!(checker.check_type("A", &bad, "A").is_err(), "{bad}");
    }
}
