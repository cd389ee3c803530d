//! Input schema: turns a raw client record (JSON object or CSV row) into the model's feature row,
//! or into the complete list of what is wrong with it.
//!
//! Parse, don't validate: [`Schema::validate`] returns a [`ValidRecord`] (features in model order,
//! warnings) or every [`FieldIssue`] of the record at once.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Most issues reported for one record; the rest are counted in a final issue.
pub const MAX_ISSUES_PER_RECORD: usize = 50;

/// Largest client id accepted: 2^53 - 1, the largest integer that every JSON client (JavaScript
/// numbers, this parser's f64) represents exactly. Ids are whole numbers in `[0, MAX_ID]`.
pub const MAX_ID: i64 = (1 << 53) - 1;
const ID_EXPECTED: &str = "an integer client id in [0, 9007199254740991], e.g. 100002";

/// The serialised form of a [`Schema`] (the `schema` part of a bundle's header, of a
/// bundle spec, of a schema file): what the training pipeline writes. Unchecked; the only way to
/// use it is [`Schema::try_from`], which checks it and computes where each model feature comes
/// from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaSpec {
    /// Client identifier field (`SK_ID_CURR`): an integer, echoed in responses, never a feature.
    pub id_field: String,
    /// Whether every record must carry the id; otherwise it may be absent or null.
    pub id_required: bool,
    /// Every accepted input in schema order: the dataset's column dictionary, read by the model
    /// or not.
    pub inputs: Vec<InputField>,
    /// Features computed from inputs and earlier derived features, in evaluation order.
    #[serde(default)]
    pub derived: Vec<DerivedFeature>,
    /// Names (inputs or derived) in the model's feature order.
    pub model_features: Vec<String>,
    /// Columns of the training data that are outcomes, not inputs (Home Credit: `TARGET`): a
    /// record carrying one is rejected with [`IssueCode::LabelNotInput`]. Absent in bundles
    /// written before issue 13 (empty: such a name is then an unknown field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// The bundle's input schema, checked: which fields a record may carry, how each is checked, and
/// how they become the model's feature row. Made only from a [`SchemaSpec`] that passes the
/// checks ([`Schema::try_from`], [`Schema::new`], or deserialising, which goes through
/// `try_from`), so every `Schema` validates records into complete feature rows. Reads its spec's
/// fields through `Deref` (`schema.inputs`, `schema.model_features`, ...); cannot be changed
/// afterwards. Serialises as its spec.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "SchemaSpec")]
pub struct Schema {
    spec: SchemaSpec,
    /// Slot (input index, or inputs.len() + derived index) of each model feature.
    model_slots: Vec<usize>,
    /// Per input: whether a model feature reads it (directly or through a derived feature).
    /// Inputs the model does not read are the rest of the dataset's column dictionary: accepted,
    /// type-checked and logged, never scored.
    used: Vec<bool>,
    /// Input indexes sorted by name, for lookups by name.
    by_name: Vec<usize>,
    /// Per derived feature: the slots of its arguments (the second repeats the first for a
    /// one-argument op), so that validating a record looks no name up.
    derived_slots: Vec<[usize; 2]>,
    /// Per input: the value it takes when absent ([`InputKind::default_value`]; `None` = NaN,
    /// missing, so that checked schemas compare equal).
    defaults: Vec<Option<f64>>,
    /// Per input: [`InputField::required`], apart from the large `InputField`s: a record names
    /// few of a schema's inputs (11 of the default model's 120), and validating it looks at
    /// every absent one only to see whether it must be there.
    required: Vec<bool>,
}

impl core::ops::Deref for Schema {
    type Target = SchemaSpec;
    fn deref(&self) -> &SchemaSpec {
        &self.spec
    }
}

impl Serialize for Schema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.spec.serialize(serializer)
    }
}

impl TryFrom<SchemaSpec> for Schema {
    type Error = SchemaError;
    /// Checks names and references and computes where each model feature comes from. Errors:
    /// duplicate names, bad ranges or levels, unknown references ([`SchemaError`]).
    fn try_from(spec: SchemaSpec) -> Result<Schema, SchemaError> {
        let mut schema = Schema {
            spec,
            model_slots: Vec::new(),
            used: Vec::new(),
            by_name: Vec::new(),
            derived_slots: Vec::new(),
            defaults: Vec::new(),
            required: Vec::new(),
        };
        schema.resolve()?;
        Ok(schema)
    }
}

/// One field a client may send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputField {
    /// Field name as clients send it (the dataset's column name, e.g. `AMT_CREDIT`), matched
    /// exactly.
    pub name: String,
    /// The client must send this field.
    pub required: bool,
    /// A required field may be sent as `null` (missing, as the model was trained with missing
    /// values); the key itself must still be present so that a forgotten field is not silent.
    #[serde(default)]
    pub nullable: bool,
    /// Human description for `GET /features` and the OpenAPI document (from the dataset's
    /// column dictionary); empty when there is none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Type and rules (JSON: `type` plus the rules, inline in the field object).
    #[serde(flatten)]
    pub kind: InputKind,
}

/// The type of an input, with the rules that go with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputKind {
    /// A number: a JSON number, or a CSV cell that parses as one; the feature is the value.
    Numeric(NumericSpec),
    /// One of a list of levels, sent as text (or as a JSON boolean where the field spells
    /// `true` / `false`); the feature is the level's code.
    Categorical(CategoricalSpec),
}

/// Rules of a numeric input. Values and bounds are in the field's own unit (see `unit`): days as
/// negative integers relative to the application, amounts in the loan currency, external scores
/// in [0, 1].
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct NumericSpec {
    /// Whole numbers only (day counts, flags).
    #[serde(default)]
    pub integer: bool,
    /// Physically possible range: values outside are rejected.
    #[serde(default)]
    pub valid_min: Option<f64>,
    /// Upper end (inclusive) of the physically possible range; see `valid_min`.
    #[serde(default)]
    pub valid_max: Option<f64>,
    /// Range seen in training: values outside are scored with a warning.
    #[serde(default)]
    pub train_min: Option<f64>,
    /// Largest value seen in training; see `train_min`.
    #[serde(default)]
    pub train_max: Option<f64>,
    /// Value used when the field is absent; `None` means missing (as the model was trained).
    #[serde(default)]
    pub default: Option<f64>,
    /// A code that means "not available" (DAYS_EMPLOYED = 365243): scored as missing and
    /// visible to `sentinel_flag` derived features.
    #[serde(default)]
    pub sentinel: Option<f64>,
    /// Unit for documentation: "days relative to the application (negative = before)",
    /// "currency units" (the loan currency), "score in [0, 1]"; empty when unitless.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    /// Example value shown by `GET /features` and the OpenAPI document.
    #[serde(default)]
    pub example: Option<f64>,
}

/// Rules of a categorical input.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct CategoricalSpec {
    /// Levels in code order (code = position, as pandas category codes).
    pub levels: Vec<String>,
    /// Accepted spellings mapped to a level (e.g. "yes" -> "Y"); matched like levels, ignoring
    /// case and spacing (see [`CategoricalSpec::match_value`]).
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// The dataset's own codes for "not available" (Home Credit: `XNA` in CODE_GENDER and
    /// ORGANIZATION_TYPE, `Unknown` in NAME_FAMILY_STATUS). Scored as missing with a
    /// `sentinel_value` warning, like the numeric `sentinel`; a code that is also one of `levels`
    /// (the model was trained with it as a category) is scored as that level, with the warning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// Level used when the (optional) field is absent; `None` means missing. Must be a level.
    #[serde(default)]
    pub default: Option<String>,
    /// What an unknown level does: rejected (default), or scored as missing.
    #[serde(default)]
    pub unknown: UnknownLevel,
    /// Example value shown by `GET /features` and the OpenAPI document.
    #[serde(default)]
    pub example: Option<String>,
}

/// What a categorical field does with text that is no level, alias or code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownLevel {
    /// The record is rejected with [`IssueCode::UnknownCategory`].
    #[default]
    Reject,
    /// Scored as missing, with a [`WarningCode::UnknownCategoryAsMissing`] warning.
    Missing,
}

/// A feature computed from inputs, declared in the bundle so training and serving share it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DerivedFeature {
    /// Feature name, unique among inputs and derived features.
    pub name: String,
    /// How it is computed (JSON: `op` plus the argument names, inline).
    #[serde(flatten)]
    pub op: DerivedOp,
}

/// The operation of a [`DerivedFeature`]. Arguments name inputs or earlier derived features and
/// are read as the model sees them (categorical inputs as level codes, missing as NaN).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DerivedOp {
    /// a / b; missing when either is missing or b is 0.
    Ratio {
        /// a: the dividend's name.
        numerator: String,
        /// b: the divisor's name.
        denominator: String,
    },
    /// a - b; missing when either is missing.
    Difference {
        /// a: the minuend's name.
        left: String,
        /// b: the subtrahend's name.
        right: String,
    },
    /// a * b; missing when either is missing.
    Product {
        /// a: the first factor's name.
        left: String,
        /// b: the second factor's name.
        right: String,
    },
    /// 1 when the input held its sentinel value, else 0.
    SentinelFlag {
        /// Name of the input (an input, not a derived feature).
        input: String,
    },
    /// 1 when the input is missing (absent, null, or its sentinel), else 0.
    IsMissing {
        /// Name of the input (an input, not a derived feature).
        input: String,
    },
}

/// A value as received, before the schema gives it a meaning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RawValue<'a> {
    /// JSON null.
    Null,
    /// A JSON number.
    Number(f64),
    /// A JSON string (strict: never accepted for a numeric field).
    String(&'a str),
    /// Untyped text from a CSV cell: parsed according to the field's type; empty means missing.
    Cell(&'a str),
    /// A JSON boolean (only categorical fields that spell `true` / `false` accept it).
    Bool(bool),
    /// A JSON array or object, which no field accepts.
    Composite,
}

/// What went wrong with one field (the `details` entries of a 422 response).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldIssue {
    /// Where: the caller's prefix plus the field name (`data[3].AMT_CREDIT`); the prefix alone
    /// (without its trailing dot) for record-level issues.
    pub path: String,
    /// Machine-readable kind (snake_case in JSON).
    pub code: IssueCode,
    /// What is wrong with the value received, for people.
    pub reason: String,
    /// What would be accepted (the field's type, range, levels), for people.
    pub expected: String,
}

/// Kind of a [`FieldIssue`]; the API's `details[].code` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// The record (or request body) is not a JSON object.
    NotAnObject,
    /// A required field is absent, or null / an empty cell where it is not `nullable`.
    MissingRequired,
    /// A value of the wrong type: text for a numeric field (JSON strings are never parsed), a
    /// number for a categorical one, a CSV cell that is not a number, an array or object.
    WrongType,
    /// A fractional number where only whole numbers are valid (`integer` fields, the client id).
    NotInteger,
    /// NaN or an infinity (e.g. a CSV cell `inf`).
    NotFinite,
    /// Outside the physically possible range (`valid_min`..=`valid_max`), or a client id outside
    /// [0, [`MAX_ID`]]; the service also uses it for parameters out of range.
    OutOfRange,
    /// Text that is no level, alias or code of a field whose `unknown` is [`UnknownLevel::Reject`].
    UnknownCategory,
    /// A field the schema does not know; `expected` names the closest known one when there is one.
    UnknownField,
    /// The record carries the training label (`TARGET`), which is what the model predicts.
    LabelNotInput,
    /// Stands for the issues beyond [`MAX_ISSUES_PER_RECORD`]; its `reason` gives their count.
    TooManyIssues,
}

impl IssueCode {
    /// The code as it appears in JSON (`wrong_type`, `not_finite`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::NotAnObject => "not_an_object",
            IssueCode::MissingRequired => "missing_required",
            IssueCode::WrongType => "wrong_type",
            IssueCode::NotInteger => "not_integer",
            IssueCode::NotFinite => "not_finite",
            IssueCode::OutOfRange => "out_of_range",
            IssueCode::UnknownCategory => "unknown_category",
            IssueCode::UnknownField => "unknown_field",
            IssueCode::LabelNotInput => "label_not_input",
            IssueCode::TooManyIssues => "too_many_issues",
        }
    }
}

/// What one received value of an input means, by the scorer's rule: the one reading behind
/// [`Schema::validate`] (which turns it into a model value, an issue or a warning) and the drift
/// report (which counts it on the log side and on the reference side alike). See
/// [`InputField::read`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InputReading<'a> {
    /// Absent, JSON `null`, or an empty (all-space) CSV cell.
    Missing,
    /// The dataset's "not available" code: the numeric `sentinel` (DAYS_EMPLOYED = 365243) or a
    /// categorical `codes` entry the model was not trained with as a level. Scored as missing.
    Sentinel,
    /// A usable number (possibly outside the training range, which only warns).
    Number(f64),
    /// A level of the field.
    Level {
        /// The level's code: its position in `levels`.
        code: usize,
        /// Reached through a dataset code the model was trained with as a level (scored as that
        /// level, with a `sentinel_value` warning).
        via_code: bool,
    },
    /// Text that no level, alias or code matches (rejected or scored as missing, per
    /// [`CategoricalSpec::unknown`]).
    UnknownLevel(&'a str),
    /// A value the scorer rejects: [`IssueCode::WrongType`] (text in a numeric field, a number or
    /// an undeclared boolean in a categorical one), [`IssueCode::NotFinite`] (`NaN`, `inf`,
    /// `1e400`), [`IssueCode::NotInteger`] or [`IssueCode::OutOfRange`] (physically impossible).
    Invalid(IssueCode),
}

/// Something about an accepted value the caller should know: the record is scored, and the
/// warning is returned with the prediction and logged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// Input name.
    pub field: String,
    /// Machine-readable kind (snake_case in JSON).
    pub code: WarningCode,
    /// The value and why it is reported, for people.
    pub message: String,
}

/// Kind of a [`Warning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// A plausible value outside what training saw (`train_min`..=`train_max`).
    OutsideTrainingRange,
    /// A dataset code for "not available": the numeric `sentinel` (DAYS_EMPLOYED = 365243) or a
    /// categorical `codes` entry (XNA, Unknown).
    SentinelValue,
    /// An unknown level of a field whose `unknown` is [`UnknownLevel::Missing`]: scored as
    /// missing.
    UnknownCategoryAsMissing,
}

/// A record that passed validation: the model's feature row plus what to tell the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidRecord {
    /// The client id (`id_field`), in [0, [`MAX_ID`]]; `None` when not sent.
    pub id: Option<i64>,
    /// Model features in model order; NaN = missing; categories as level codes.
    pub features: Vec<f64>,
    /// Warnings about inputs the model reads, in schema order (those about unused inputs are
    /// dropped).
    pub warnings: Vec<Warning>,
    /// Every input (schema order), then every derived feature: the values the model features
    /// were taken from (NaN = missing), so a reason code can name the inputs of a derived one.
    pub values: Vec<f64>,
}

/// Why a schema itself is unusable (returned by [`Schema::try_from`] and [`Schema::new`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SchemaError {
    /// A name (id, label, input or derived feature) is declared twice.
    DuplicateName(String),
    /// A derived feature, or `model_features`, names something that does not exist (or that it
    /// cannot read: a sentinel/missing flag of a derived feature).
    UnknownReference {
        /// The derived feature referring, or "model_features".
        feature: String,
        /// The name it refers to.
        name: String,
    },
    /// A categorical field's alias or default names no level.
    BadCategorical {
        /// The field.
        field: String,
        /// Which alias or default is wrong.
        reason: String,
    },
    /// A numeric field has a non-finite bound, default or sentinel, or `valid_min > valid_max`.
    BadRange {
        /// The field.
        field: String,
    },
}

impl core::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::DuplicateName(n) => write!(f, "schema: name `{n}` is declared twice"),
            Self::UnknownReference { feature, name } => {
                write!(f, "schema: `{feature}` refers to unknown input or derived feature `{name}`")
            }
            Self::BadCategorical { field, reason } => {
                write!(f, "schema: categorical `{field}`: {reason}")
            }
            Self::BadRange { field } => {
                write!(f, "schema: `{field}` has a non-finite or inverted range")
            }
        }
    }
}

impl core::error::Error for SchemaError {}

impl Schema {
    /// A checked schema from its parts (no labels). Errors: as [`Schema::try_from`].
    pub fn new(
        id_field: String,
        id_required: bool,
        inputs: Vec<InputField>,
        derived: Vec<DerivedFeature>,
        model_features: Vec<String>,
    ) -> Result<Self, SchemaError> {
        Schema::try_from(SchemaSpec {
            id_field,
            id_required,
            inputs,
            derived,
            model_features,
            labels: Vec::new(),
        })
    }

    /// The serialised form (to change a schema: change its spec, then [`Schema::try_from`]).
    pub fn spec(&self) -> &SchemaSpec {
        &self.spec
    }

    /// The spec back, e.g. to add a derived feature or a label and check it again.
    pub fn into_spec(self) -> SchemaSpec {
        self.spec
    }

    fn resolve(&mut self) -> Result<(), SchemaError> {
        let mut slots: BTreeMap<&str, usize> = BTreeMap::new();
        slots.insert(self.id_field.as_str(), usize::MAX);
        for label in &self.labels {
            if slots.insert(label.as_str(), usize::MAX).is_some() {
                return Err(SchemaError::DuplicateName(label.clone()));
            }
        }
        for (i, f) in self.inputs.iter().enumerate() {
            if slots.insert(f.name.as_str(), i).is_some() {
                return Err(SchemaError::DuplicateName(f.name.clone()));
            }
            match &f.kind {
                InputKind::Numeric(n) => {
                    for v in [n.valid_min, n.valid_max, n.train_min, n.train_max, n.default, n.sentinel] {
                        if v.is_some_and(|v| !v.is_finite()) {
                            return Err(SchemaError::BadRange { field: f.name.clone() });
                        }
                    }
                    if let (Some(lo), Some(hi)) = (n.valid_min, n.valid_max)
                        && lo > hi
                    {
                        return Err(SchemaError::BadRange { field: f.name.clone() });
                    }
                }
                InputKind::Categorical(c) => {
                    for (alias, target) in &c.aliases {
                        if !c.levels.contains(target) {
                            return Err(SchemaError::BadCategorical {
                                field: f.name.clone(),
                                reason: format!("alias `{alias}` maps to unknown level `{target}`"),
                            });
                        }
                    }
                    if let Some(d) = &c.default
                        && !c.levels.contains(d)
                    {
                        return Err(SchemaError::BadCategorical {
                            field: f.name.clone(),
                            reason: format!("default `{d}` is not a level"),
                        });
                    }
                }
            }
        }
        let n_inputs = self.inputs.len();
        for (j, d) in self.derived.iter().enumerate() {
            for arg in d.op.arguments() {
                if slots.get(arg).is_none_or(|&s| s == usize::MAX) {
                    return Err(SchemaError::UnknownReference {
                        feature: d.name.clone(),
                        name: arg.to_string(),
                    });
                }
            }
            if let DerivedOp::SentinelFlag { input } | DerivedOp::IsMissing { input } = &d.op
                && slots[input.as_str()] >= n_inputs
            {
                return Err(SchemaError::UnknownReference { feature: d.name.clone(), name: input.clone() });
            }
            if slots.insert(d.name.as_str(), n_inputs + j).is_some() {
                return Err(SchemaError::DuplicateName(d.name.clone()));
            }
        }
        let mut model_slots = Vec::with_capacity(self.model_features.len());
        for name in &self.model_features {
            match slots.get(name.as_str()) {
                Some(&s) if s != usize::MAX => model_slots.push(s),
                _ => {
                    return Err(SchemaError::UnknownReference {
                        feature: "model_features".into(),
                        name: name.clone(),
                    });
                }
            }
        }
        // An input is used when a model feature reads it, directly or through derived features
        // (a derived feature only refers to inputs and earlier derived features).
        let mut used = alloc::vec![false; n_inputs + self.derived.len()];
        for &s in &model_slots {
            used[s] = true;
        }
        for (j, d) in self.derived.iter().enumerate().rev() {
            if used[n_inputs + j] {
                for arg in d.op.arguments() {
                    used[slots[arg]] = true;
                }
            }
        }
        used.truncate(n_inputs);
        let derived_slots = self
            .derived
            .iter()
            .map(|d| {
                let args = d.op.arguments();
                let slot = |k: usize| args.get(k).or(args.first()).map_or(0, |a| slots[a]);
                [slot(0), slot(1)]
            })
            .collect();
        let mut by_name: Vec<usize> = (0..n_inputs).collect();
        crate::order::sort_indices(&mut by_name, &|a, b| self.inputs[a].name.cmp(&self.inputs[b].name));
        self.derived_slots = derived_slots;
        self.defaults =
            self.inputs.iter().map(|f| Some(f.kind.default_value()).filter(|v| !v.is_nan())).collect();
        self.required = self.inputs.iter().map(|f| f.required).collect();
        self.model_slots = model_slots;
        self.used = used;
        self.by_name = by_name;
        Ok(())
    }

    /// Index of the input called `name`.
    fn input_index(&self, name: &str) -> Option<usize> {
        if self.by_name.len() != self.inputs.len() {
            // While the schema is being checked (before the index exists): a linear search.
            return self.inputs.iter().position(|f| f.name == name);
        }
        self.by_name
            .binary_search_by(|&i| self.inputs[i].name.as_str().cmp(name))
            .ok()
            .map(|k| self.by_name[k])
    }

    /// The input called `name` (exact, case-sensitive), if any.
    pub fn input(&self, name: &str) -> Option<&InputField> {
        self.input_index(name).map(|i| &self.inputs[i])
    }

    /// Whether the model reads input `name` (directly or through a derived feature); `false` for
    /// a column of the dataset's dictionary the model does not use, and for unknown names.
    pub fn is_used(&self, name: &str) -> bool {
        self.input_index(name).is_some_and(|i| self.used.get(i).copied().unwrap_or(true))
    }

    /// Names a client may send, for error hints: the id and every input.
    fn known_names(&self) -> impl Iterator<Item = &str> {
        core::iter::once(self.id_field.as_str()).chain(self.inputs.iter().map(|f| f.name.as_str()))
    }

    /// Validates one record given as (field name, value) pairs. `path_prefix` is put before each
    /// field name in issue paths (e.g. `data[3].`).
    pub fn validate<'a, I>(&self, fields: I, path_prefix: &str) -> Result<ValidRecord, Vec<FieldIssue>>
    where
        I: IntoIterator<Item = (&'a str, RawValue<'a>)>,
    {
        let n_inputs = self.inputs.len();
        let mut received: Vec<Option<RawValue<'a>>> = alloc::vec![None; n_inputs];
        let mut id_raw: Option<RawValue<'a>> = None;
        let mut issues = Issues { list: Vec::new(), dropped: 0 };
        for (name, value) in fields {
            if name == self.id_field {
                id_raw = Some(value);
            } else if let Some(i) = self.input_index(name) {
                received[i] = Some(value);
            } else if self.labels.iter().any(|l| l == name) {
                issues.push(
                    path_prefix,
                    name,
                    IssueCode::LabelNotInput,
                    "this is the training label (the outcome the model predicts), not an input".into(),
                    "the record without its label".into(),
                );
            } else {
                let hint = match closest(name, self.known_names()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => "a field listed by GET /features?include_all=true".into(),
                };
                issues.push(path_prefix, name, IssueCode::UnknownField, "unknown field".into(), hint);
            }
        }
        self.validate_received(id_raw, &received, path_prefix, issues)
    }

    /// Validates one record whose fields are already matched to the schema: `id` is the value of
    /// [`SchemaSpec::id_field`] and `received[i]` that of input `i` ([`SchemaSpec::inputs`]
    /// order; `None` = absent, as are positions beyond `received`). Gives exactly what
    /// [`Schema::validate`] gives for the same fields by name; an adapter that already knows where
    /// each of its fields goes (the npm package maps a JS object's keys once per bundle) skips the
    /// name lookups.
    pub fn validate_inputs<'a>(
        &self,
        id: Option<RawValue<'a>>,
        received: &[Option<RawValue<'a>>],
        path_prefix: &str,
    ) -> Result<ValidRecord, Vec<FieldIssue>> {
        self.validate_received(id, received, path_prefix, Issues { list: Vec::new(), dropped: 0 })
    }

    fn validate_received<'a>(
        &self,
        id_raw: Option<RawValue<'a>>,
        received: &[Option<RawValue<'a>>],
        path_prefix: &str,
        mut issues: Issues,
    ) -> Result<ValidRecord, Vec<FieldIssue>> {
        let n_inputs = self.inputs.len();
        let id = self.validate_id(id_raw, path_prefix, &mut issues);
        // Every input at its value when absent (resolved once: a categorical default is a level
        // looked up by name), then the derived features.
        let mut values = Vec::with_capacity(n_inputs + self.derived.len());
        if self.defaults.len() == n_inputs {
            values.extend(self.defaults.iter().map(|d| d.unwrap_or(f64::NAN)));
        } else {
            values.extend(self.inputs.iter().map(|f| f.kind.default_value()));
        }
        values.resize(n_inputs + self.derived.len(), f64::NAN);
        let mut sentinel_hit = alloc::vec![false; n_inputs];
        let mut warnings = Vec::new();
        // Warnings about inputs the model does not read would only be noise.
        let mut unused_warnings = Vec::new();
        for (i, field) in self.inputs.iter().enumerate() {
            let raw = match received.get(i).copied().flatten() {
                // Absent: the default, and an issue when required (asked of the compact list).
                None => Err(self.required.get(i).copied().unwrap_or(field.required)),
                // Present but null or blank: the default, unless the field must have a value.
                Some(RawValue::Null) => Err(field.required && !field.nullable),
                Some(RawValue::Cell(s)) if s.trim().is_empty() => Err(field.required && !field.nullable),
                Some(v) => Ok(v),
            };
            let raw = match raw {
                Ok(raw) => raw,
                Err(missing) => {
                    if missing {
                        issues.push(
                            path_prefix,
                            &field.name,
                            IssueCode::MissingRequired,
                            "required field is missing".into(),
                            field.kind.expected(),
                        );
                    }
                    continue;
                }
            };
            let warnings =
                if self.used.get(i).copied().unwrap_or(true) { &mut warnings } else { &mut unused_warnings };
            let outcome = match &field.kind {
                InputKind::Numeric(spec) => {
                    numeric_value(field, spec, raw, path_prefix, &mut issues, warnings)
                }
                InputKind::Categorical(spec) => {
                    categorical_code(field, spec, raw, path_prefix, &mut issues, warnings)
                }
            };
            match outcome {
                NumericOutcome::Value(v) => values[i] = v,
                // Scored as missing, not as the default.
                NumericOutcome::Sentinel => {
                    values[i] = f64::NAN;
                    sentinel_hit[i] = true;
                }
                NumericOutcome::Rejected => {}
            }
        }
        if !issues.list.is_empty() {
            return Err(issues.finish(path_prefix));
        }
        for (j, d) in self.derived.iter().enumerate() {
            values[n_inputs + j] = self.derive(j, &d.op, &values, &sentinel_hit);
        }
        let features = self.model_slots.iter().map(|&s| values[s]).collect();
        Ok(ValidRecord { id, features, warnings, values })
    }

    /// The value of input or derived feature `name` in a record this schema validated (NaN when
    /// missing or unknown).
    pub fn value_of(&self, record: &ValidRecord, name: &str) -> f64 {
        let known = self.inputs.iter().any(|f| f.name == name) || self.derived.iter().any(|d| d.name == name);
        if !known {
            return f64::NAN;
        }
        record.values.get(self.slot_of(name)).copied().unwrap_or(f64::NAN)
    }

    fn slot_of(&self, name: &str) -> usize {
        // References were checked in `resolve`.
        match self.input_index(name) {
            Some(i) => i,
            None => self.inputs.len() + self.derived.iter().position(|d| d.name == name).unwrap_or(0),
        }
    }

    /// Derived feature `j` (operation `op`) of a record's values.
    fn derive(&self, j: usize, op: &DerivedOp, values: &[f64], sentinel_hit: &[bool]) -> f64 {
        // The argument slots resolved once; by name for a schema not resolved yet.
        let [a, b] = match self.derived_slots.get(j) {
            Some(&slots) => slots,
            None => {
                let args = op.arguments();
                let slot = |k: usize| args.get(k).or(args.first()).map_or(0, |n| self.slot_of(n));
                [slot(0), slot(1)]
            }
        };
        let (x, y) = (values.get(a).copied().unwrap_or(f64::NAN), values.get(b).copied().unwrap_or(f64::NAN));
        match op {
            DerivedOp::Ratio { .. } => {
                if x.is_nan() || y.is_nan() || y == 0.0 {
                    f64::NAN
                } else {
                    x / y
                }
            }
            DerivedOp::Difference { .. } => x - y,
            DerivedOp::Product { .. } => x * y,
            DerivedOp::SentinelFlag { .. } => {
                f64::from(u8::from(sentinel_hit.get(a).copied().unwrap_or(false)))
            }
            DerivedOp::IsMissing { .. } => f64::from(u8::from(x.is_nan())),
        }
    }

    fn validate_id(&self, raw: Option<RawValue<'_>>, prefix: &str, issues: &mut Issues) -> Option<i64> {
        let expected = ID_EXPECTED;
        let name = self.id_field.as_str();
        let number = match raw {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Cell(s)) if s.trim().is_empty() => None,
            Some(RawValue::Number(n)) => Some(n),
            Some(RawValue::Cell(s)) => match s.trim().parse::<f64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    issues.push(prefix, name, IssueCode::WrongType, "not a number".into(), expected.into());
                    return None;
                }
            },
            Some(other) => {
                issues.push(
                    prefix,
                    name,
                    IssueCode::WrongType,
                    format!("got {}", other.kind_name()),
                    expected.into(),
                );
                return None;
            }
        };
        match number {
            None => {
                if self.id_required {
                    issues.push(
                        prefix,
                        name,
                        IssueCode::MissingRequired,
                        "required field is missing".into(),
                        expected.into(),
                    );
                }
                None
            }
            Some(n) if !n.is_finite() || n != libm::trunc(n) => {
                issues.push(
                    prefix,
                    name,
                    IssueCode::NotInteger,
                    format!("{n} is not an integer id"),
                    expected.into(),
                );
                None
            }
            Some(n) if !(0.0..=MAX_ID as f64).contains(&n) => {
                // Above 2^53 - 1 a JSON number is no longer exact in every client (JavaScript,
                // and this parser's f64): two ids could silently become one.
                let reason = if n < 0.0 {
                    String::from("a client id is not negative")
                } else {
                    format!(
                        "above the largest accepted id {MAX_ID} (2^53 - 1, the largest integer every JSON client keeps exact)"
                    )
                };
                issues.push(prefix, name, IssueCode::OutOfRange, reason, expected.into());
                None
            }
            Some(n) => Some(n as i64),
        }
    }

    /// Numbers of features the model takes.
    pub fn num_model_features(&self) -> usize {
        self.model_features.len()
    }
}

enum NumericOutcome {
    Value(f64),
    Sentinel,
    Rejected,
}

fn numeric_value(
    field: &InputField,
    spec: &NumericSpec,
    raw: RawValue<'_>,
    prefix: &str,
    issues: &mut Issues,
    warnings: &mut Vec<Warning>,
) -> NumericOutcome {
    // The number behind the value, for the messages (the reading itself is `NumericSpec::read`).
    let shown = || match raw {
        RawValue::Number(n) => n,
        RawValue::Cell(s) => s.trim().parse::<f64>().unwrap_or(f64::NAN),
        _ => f64::NAN,
    };
    let v = match spec.read(raw) {
        InputReading::Number(v) => v,
        InputReading::Sentinel => {
            warnings.push(Warning {
                field: field.name.clone(),
                code: WarningCode::SentinelValue,
                message: format!("{} is the dataset's \"not available\" code: scored as missing", shown()),
            });
            return NumericOutcome::Sentinel;
        }
        InputReading::Invalid(code) => {
            let reason = match (code, raw) {
                (IssueCode::WrongType, RawValue::Cell(s)) => format!("`{s}` is not a number"),
                (IssueCode::WrongType, other) => {
                    format!("got {}, numbers must be JSON numbers", other.kind_name())
                }
                (IssueCode::NotFinite, _) => "not a finite number".into(),
                (IssueCode::NotInteger, _) => format!("{} is not a whole number", shown()),
                _ => format!("{} is physically impossible", shown()),
            };
            // Only now: the text is a format! per field, too dear for every valid value.
            issues.push(prefix, &field.name, code, reason, field.kind.expected());
            return NumericOutcome::Rejected;
        }
        // `validate` handles missing values before; no other reading is numeric.
        _ => return NumericOutcome::Rejected,
    };
    if spec.train_min.is_some_and(|lo| v < lo) || spec.train_max.is_some_and(|hi| v > hi) {
        warnings.push(Warning {
            field: field.name.clone(),
            code: WarningCode::OutsideTrainingRange,
            message: format!(
                "{v} is outside the training range [{}, {}]",
                fmt_opt(spec.train_min),
                fmt_opt(spec.train_max)
            ),
        });
    }
    NumericOutcome::Value(v)
}

fn categorical_code(
    field: &InputField,
    spec: &CategoricalSpec,
    raw: RawValue<'_>,
    prefix: &str,
    issues: &mut Issues,
    warnings: &mut Vec<Warning>,
) -> NumericOutcome {
    let code_warning = |text: &str, outcome: &str| Warning {
        field: field.name.clone(),
        code: WarningCode::SentinelValue,
        message: format!("`{text}` is the dataset's \"not available\" code: {outcome}"),
    };
    match spec.match_value(raw) {
        LevelMatch::Level(code) => NumericOutcome::Value(code as f64),
        LevelMatch::CodeLevel(code) => {
            let text = raw.text().unwrap_or_default();
            warnings.push(code_warning(text, "scored as that level, as the model was trained"));
            NumericOutcome::Value(code as f64)
        }
        LevelMatch::Code => {
            warnings.push(code_warning(raw.text().unwrap_or_default(), "scored as missing"));
            NumericOutcome::Sentinel
        }
        LevelMatch::WrongType => {
            let reason = match raw {
                RawValue::Bool(_) => String::from("got a boolean, which this field does not take"),
                _ => format!("got {}, categories must be strings", raw.kind_name()),
            };
            issues.push(prefix, &field.name, IssueCode::WrongType, reason, field.kind.expected());
            NumericOutcome::Rejected
        }
        LevelMatch::Unknown => {
            let shown = truncate(raw.text().unwrap_or_default(), 60);
            match spec.unknown {
                UnknownLevel::Missing => {
                    warnings.push(Warning {
                        field: field.name.clone(),
                        code: WarningCode::UnknownCategoryAsMissing,
                        message: format!("unknown level `{shown}` scored as missing"),
                    });
                    NumericOutcome::Value(f64::NAN)
                }
                UnknownLevel::Reject => {
                    issues.push(
                        prefix,
                        &field.name,
                        IssueCode::UnknownCategory,
                        format!("unknown level `{shown}`"),
                        field.kind.expected(),
                    );
                    NumericOutcome::Rejected
                }
            }
        }
    }
}

/// What a categorical value means for one field: see [`CategoricalSpec::match_value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelMatch {
    /// A level (its code: the position in `levels`), through its own spelling or an alias.
    Level(usize),
    /// One of the field's dataset codes for "not available" that the model was trained with as
    /// a level (its code): scored as that level, and reported.
    CodeLevel(usize),
    /// One of the field's dataset codes for "not available": scored as missing, and reported.
    Code,
    /// Text that is no level, alias or code (or that matches several once case and spacing are
    /// ignored).
    Unknown,
    /// Not text nor a JSON boolean (numbers, arrays, objects, null).
    WrongType,
}

/// What one spelling stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Level(usize),
    Code,
}

impl CategoricalSpec {
    /// The meaning of a received value: the one rule for category spellings, shared by the HTTP
    /// endpoint, the npm package and the CLI (through [`Schema::validate`]) and the drift report.
    ///
    /// Text (a JSON string or CSV cell) is looked up exactly among the levels, the aliases and
    /// the dataset codes; failing that, ignoring case (Unicode lowercase), leading and trailing
    /// whitespace and runs of inner whitespace, where it must single out one meaning (two levels
    /// differing only in case are then ambiguous: `Unknown`). A JSON boolean is the text `true` /
    /// `false`, so it is accepted exactly where the field declares those spellings (the Y/N flags).
    pub fn match_value(&self, raw: RawValue<'_>) -> LevelMatch {
        match (raw.text(), raw) {
            // A boolean the field does not declare is a type error even where unknown levels are
            // scored as missing: `true` is no misspelt level.
            (Some(text), RawValue::Bool(_)) => match self.match_text(text) {
                LevelMatch::Unknown => LevelMatch::WrongType,
                found => found,
            },
            (Some(text), _) => self.match_text(text),
            (None, _) => LevelMatch::WrongType,
        }
    }

    /// The JSON booleans this field accepts (those its levels or aliases spell `true`/`false`).
    pub fn accepted_booleans(&self) -> Vec<bool> {
        [false, true]
            .into_iter()
            .filter(|&b| !matches!(self.match_value(RawValue::Bool(b)), LevelMatch::WrongType))
            .collect()
    }

    /// Every spelling this field accepts (levels, aliases, dataset codes), for documentation.
    pub fn spellings(&self) -> impl Iterator<Item = &str> {
        self.levels.iter().chain(self.aliases.keys()).chain(self.codes.iter()).map(String::as_str)
    }

    /// [`CategoricalSpec::match_value`] for text.
    pub fn match_text(&self, text: &str) -> LevelMatch {
        let exact = self
            .levels
            .iter()
            .position(|l| l == text)
            .map(Target::Level)
            .or_else(|| self.aliases.get(text).and_then(|t| self.level_of(t)))
            .or_else(|| self.codes.iter().find(|c| *c == text).map(|c| self.code_target(c)));
        let target = match exact {
            Some(t) => Some(t),
            None => {
                let mut found: Option<Target> = None;
                let mut ambiguous = false;
                let candidates = self
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.as_str(), Some(Target::Level(i))))
                    .chain(self.aliases.iter().map(|(a, t)| (a.as_str(), self.level_of(t))))
                    .chain(self.codes.iter().map(|c| (c.as_str(), Some(self.code_target(c)))));
                for (spelling, t) in candidates {
                    if let Some(t) = t
                        && same_folded(text, spelling)
                    {
                        ambiguous |= found.is_some_and(|f| f != t);
                        found = Some(t);
                    }
                }
                if ambiguous { None } else { found }
            }
        };
        match target {
            // A code the model knows as a level (e.g. ORGANIZATION_TYPE = XNA in a model trained
            // with it as a category).
            Some(Target::Level(i)) if self.codes.contains(&self.levels[i]) => LevelMatch::CodeLevel(i),
            Some(Target::Level(i)) => LevelMatch::Level(i),
            Some(Target::Code) => LevelMatch::Code,
            None => LevelMatch::Unknown,
        }
    }

    fn level_of(&self, level: &str) -> Option<Target> {
        self.levels.iter().position(|l| l == level).map(Target::Level)
    }

    /// A dataset code is its level when the model was trained with it as one.
    fn code_target(&self, code: &str) -> Target {
        self.level_of(code).unwrap_or(Target::Code)
    }
}

/// Characters `char::is_whitespace` (Unicode White_Space) accepts, as a regular-expression class
/// that ECMA-262 and Python agree on (their `\s` differ from Rust's and from each other).
pub const WHITESPACE_CLASS: &str =
    "[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// A regular expression (ECMA-262 and Python syntax) that matches exactly the texts
/// [`CategoricalSpec::match_text`] folds onto one of `spellings`: each spelling with ASCII letters
/// in either case, inner whitespace runs of any length, whitespace around.
pub fn folded_pattern<'a>(spellings: impl Iterator<Item = &'a str>) -> String {
    let mut alternatives: Vec<String> = Vec::new();
    for spelling in spellings {
        let mut alt = String::new();
        let mut in_space = false;
        for c in spelling.trim().chars() {
            if c.is_whitespace() {
                if !in_space {
                    alt.push_str(WHITESPACE_CLASS);
                    alt.push('+');
                }
                in_space = true;
                continue;
            }
            in_space = false;
            if c.is_ascii_alphabetic() {
                alt.push('[');
                alt.push(c.to_ascii_uppercase());
                alt.push(c.to_ascii_lowercase());
                alt.push(']');
            } else if "^$\\.*+?()[]{}|/".contains(c) {
                alt.push('\\');
                alt.push(c);
            } else {
                alt.push(c);
            }
        }
        if !alternatives.contains(&alt) {
            alternatives.push(alt);
        }
    }
    format!("^{WHITESPACE_CLASS}*({}){WHITESPACE_CLASS}*$", alternatives.join("|"))
}

/// Case-, edge- and inner-whitespace-insensitive equality (see [`CategoricalSpec::match_value`]).
fn same_folded(a: &str, b: &str) -> bool {
    folded(a).eq(folded(b))
}

fn folded(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut after_space = false;
    s.trim()
        .chars()
        .filter_map(move |c| {
            if c.is_whitespace() {
                (!core::mem::replace(&mut after_space, true)).then_some(' ')
            } else {
                after_space = false;
                Some(c)
            }
        })
        .flat_map(char::to_lowercase)
}

/// At most `max` bytes of `s`, cut on a character boundary (for echoing untrusted values in
/// messages and reports without letting them grow unbounded). Never panics.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// [`truncate`] with `...` appended when something was cut: an untrusted value echoed in an
/// error message or report, shortened visibly.
pub fn shorten(s: &str, max: usize) -> String {
    let kept = truncate(s, max);
    if kept.len() == s.len() { kept.into() } else { format!("{kept}...") }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_else(|| "-inf".into())
}

impl InputField {
    /// The meaning of one received value (`None` = the key is absent): the rule the scorer
    /// applies in [`Schema::validate`], without building issues or warnings. A CSV cell is parsed
    /// as Rust's `f64::from_str` after trimming (so `NA` is not a number and `nan` is not
    /// finite); JSON strings are never numbers.
    pub fn read<'a>(&self, raw: Option<RawValue<'a>>) -> InputReading<'a> {
        let raw = match raw {
            None | Some(RawValue::Null) => return InputReading::Missing,
            Some(RawValue::Cell(s)) if s.trim().is_empty() => return InputReading::Missing,
            Some(v) => v,
        };
        match &self.kind {
            InputKind::Numeric(spec) => spec.read(raw),
            InputKind::Categorical(spec) => match spec.match_value(raw) {
                LevelMatch::Level(code) => InputReading::Level { code, via_code: false },
                LevelMatch::CodeLevel(code) => InputReading::Level { code, via_code: true },
                LevelMatch::Code => InputReading::Sentinel,
                LevelMatch::Unknown => InputReading::UnknownLevel(raw.text().unwrap_or_default()),
                LevelMatch::WrongType => InputReading::Invalid(IssueCode::WrongType),
            },
        }
    }
}

impl NumericSpec {
    /// The meaning of a present, non-null value for this numeric field (see [`InputField::read`]).
    pub fn read<'a>(&self, raw: RawValue<'a>) -> InputReading<'a> {
        let v = match raw {
            RawValue::Number(n) => n,
            RawValue::Cell(s) => match s.trim().parse::<f64>() {
                Ok(n) => n,
                Err(_) => return InputReading::Invalid(IssueCode::WrongType),
            },
            RawValue::Null => return InputReading::Missing,
            _ => return InputReading::Invalid(IssueCode::WrongType),
        };
        if !v.is_finite() {
            InputReading::Invalid(IssueCode::NotFinite)
        } else if self.sentinel == Some(v) {
            InputReading::Sentinel
        } else if self.integer && v != libm::trunc(v) {
            InputReading::Invalid(IssueCode::NotInteger)
        } else if self.valid_min.is_some_and(|lo| v < lo) || self.valid_max.is_some_and(|hi| v > hi) {
            InputReading::Invalid(IssueCode::OutOfRange)
        } else {
            InputReading::Number(v)
        }
    }
}

impl InputKind {
    /// Human description of accepted values, for error details and /features.
    pub fn expected(&self) -> String {
        match self {
            InputKind::Numeric(n) => {
                let what = if n.integer { "an integer" } else { "a number" };
                match (n.valid_min, n.valid_max) {
                    (Some(lo), Some(hi)) => format!("{what} in [{lo}, {hi}]"),
                    (Some(lo), None) => format!("{what} >= {lo}"),
                    (None, Some(hi)) => format!("{what} <= {hi}"),
                    (None, None) => what.into(),
                }
            }
            InputKind::Categorical(c) => {
                let quoted = |v: &str| format!("\"{v}\"");
                let mut s = String::from("one of ");
                s.push_str(&c.levels.iter().map(|l| quoted(l)).collect::<Vec<_>>().join(", "));
                let mut also: Vec<String> = Vec::new();
                for level in &c.levels {
                    let spellings: Vec<String> =
                        c.aliases.iter().filter(|(_, t)| *t == level).map(|(a, _)| quoted(a)).collect();
                    if !spellings.is_empty() {
                        also.push(format!("{} for \"{level}\"", spellings.join(", ")));
                    }
                }
                if !also.is_empty() {
                    s.push_str(&format!(" (also {})", also.join("; ")));
                }
                if !c.codes.is_empty() {
                    let codes: Vec<String> = c.codes.iter().map(|v| quoted(v)).collect();
                    s.push_str(&format!("; {} = not available", codes.join(", ")));
                }
                s.push_str("; case and spacing ignored");
                s
            }
        }
    }

    /// Value of an absent optional field.
    pub fn default_value(&self) -> f64 {
        match self {
            InputKind::Numeric(n) => n.default.unwrap_or(f64::NAN),
            InputKind::Categorical(c) => c
                .default
                .as_ref()
                .and_then(|d| c.levels.iter().position(|l| l == d))
                .map(|p| p as f64)
                .unwrap_or(f64::NAN),
        }
    }
}

impl DerivedOp {
    /// Names the operation reads, in argument order.
    pub fn arguments(&self) -> Vec<&str> {
        match self {
            DerivedOp::Ratio { numerator, denominator } => {
                alloc::vec![numerator.as_str(), denominator.as_str()]
            }
            DerivedOp::Difference { left, right } | DerivedOp::Product { left, right } => {
                alloc::vec![left.as_str(), right.as_str()]
            }
            DerivedOp::SentinelFlag { input } | DerivedOp::IsMissing { input } => {
                alloc::vec![input.as_str()]
            }
        }
    }
}

impl<'a> RawValue<'a> {
    /// The value as category text: strings and CSV cells as they are, JSON booleans as `true` /
    /// `false`; `None` for anything else.
    pub fn text(&self) -> Option<&'a str> {
        match *self {
            RawValue::String(s) | RawValue::Cell(s) => Some(s),
            RawValue::Bool(true) => Some("true"),
            RawValue::Bool(false) => Some("false"),
            _ => None,
        }
    }

    fn kind_name(&self) -> &'static str {
        match self {
            RawValue::Null => "null",
            RawValue::Number(_) => "a number",
            RawValue::String(_) => "a string",
            RawValue::Cell(_) => "text",
            RawValue::Bool(_) => "a boolean",
            RawValue::Composite => "an array or object",
        }
    }

    /// View of a JSON value.
    pub fn from_json(v: &'a serde_json::Value) -> RawValue<'a> {
        match v {
            serde_json::Value::Null => RawValue::Null,
            serde_json::Value::Bool(b) => RawValue::Bool(*b),
            serde_json::Value::Number(n) => RawValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => RawValue::String(s),
            _ => RawValue::Composite,
        }
    }
}

impl Schema {
    /// Validates a JSON record (must be an object).
    pub fn validate_json(
        &self,
        record: &serde_json::Value,
        path_prefix: &str,
    ) -> Result<ValidRecord, Vec<FieldIssue>> {
        match record {
            serde_json::Value::Object(map) => {
                self.validate(map.iter().map(|(k, v)| (k.as_str(), RawValue::from_json(v))), path_prefix)
            }
            other => Err(alloc::vec![FieldIssue {
                path: String::from(path_prefix.trim_end_matches('.')),
                code: IssueCode::NotAnObject,
                reason: format!("got {}", RawValue::from_json(other).kind_name()),
                expected: "a JSON object mapping feature names to values".into(),
            }]),
        }
    }
}

struct Issues {
    list: Vec<FieldIssue>,
    dropped: usize,
}

impl Issues {
    fn push(&mut self, prefix: &str, field: &str, code: IssueCode, reason: String, expected: String) {
        if self.list.len() >= MAX_ISSUES_PER_RECORD {
            self.dropped += 1;
            return;
        }
        let mut path = String::with_capacity(prefix.len() + field.len());
        path.push_str(prefix);
        path.push_str(field);
        self.list.push(FieldIssue { path, code, reason, expected });
    }

    fn finish(mut self, prefix: &str) -> Vec<FieldIssue> {
        if self.dropped > 0 {
            self.list.push(FieldIssue {
                path: String::from(prefix.trim_end_matches('.')),
                code: IssueCode::TooManyIssues,
                reason: format!("{} more issues not listed", self.dropped),
                expected: "fewer invalid fields".into(),
            });
        }
        self.list
    }
}

/// The known name closest to `name` (case-insensitive edit distance), if close enough to be a
/// plausible typo.
pub fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    if lower.len() > 256 {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = edit_distance(lower.as_bytes(), k.to_ascii_lowercase().as_bytes());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.filter(|(d, k)| *d <= (k.len().max(name.len()) / 3).max(2)).map(|(_, k)| k)
}

fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = alloc::vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{aliases, categorical_input, levels, numeric_input};
    use alloc::vec;

    fn schema() -> Schema {
        let num = |name: &str, required: bool, spec: NumericSpec| numeric_input(name, required, false, spec);
        Schema::new(
            "SK_ID_CURR".into(),
            true,
            vec![
                num(
                    "EXT_SOURCE_2",
                    true,
                    NumericSpec {
                        valid_min: Some(0.0),
                        valid_max: Some(1.0),
                        train_min: Some(0.01),
                        train_max: Some(0.85),
                        ..Default::default()
                    },
                ),
                num("AMT_CREDIT", true, NumericSpec { valid_min: Some(0.0), ..Default::default() }),
                num(
                    "AMT_INCOME_TOTAL",
                    false,
                    NumericSpec { valid_min: Some(0.0), default: Some(150000.0), ..Default::default() },
                ),
                num(
                    "DAYS_EMPLOYED",
                    false,
                    NumericSpec {
                        integer: true,
                        sentinel: Some(365243.0),
                        valid_max: Some(0.0),
                        ..Default::default()
                    },
                ),
                categorical_input(
                    "FLAG_OWN_CAR",
                    true,
                    false,
                    CategoricalSpec {
                        levels: levels(&["N", "Y"]),
                        aliases: aliases(&[("No", "N"), ("Yes", "Y")]),
                        ..Default::default()
                    },
                ),
            ],
            vec![
                DerivedFeature {
                    name: "CREDIT_INCOME_RATIO".into(),
                    op: DerivedOp::Ratio {
                        numerator: "AMT_CREDIT".into(),
                        denominator: "AMT_INCOME_TOTAL".into(),
                    },
                },
                DerivedFeature {
                    name: "DAYS_EMPLOYED_ANOM".into(),
                    op: DerivedOp::SentinelFlag { input: "DAYS_EMPLOYED".into() },
                },
            ],
            vec![
                "EXT_SOURCE_2".into(),
                "FLAG_OWN_CAR".into(),
                "DAYS_EMPLOYED".into(),
                "CREDIT_INCOME_RATIO".into(),
                "DAYS_EMPLOYED_ANOM".into(),
            ],
        )
        .unwrap()
    }

    fn json(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn valid_record_becomes_model_row() {
        let r = schema()
            .validate_json(
                &json(r#"{"SK_ID_CURR": 100002, "EXT_SOURCE_2": 0.61, "AMT_CREDIT": 300000, "FLAG_OWN_CAR": "Yes", "DAYS_EMPLOYED": 365243}"#),
                "data.",
            )
            .unwrap();
        assert_eq!(r.id, Some(100002));
        assert_eq!(r.features[..2], [0.61, 1.0]);
        assert!(r.features[2].is_nan(), "sentinel is missing");
        assert_eq!(r.features[3], 2.0, "ratio uses the income default");
        assert_eq!(r.features[4], 1.0, "anomaly flag");
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn every_issue_reported_at_once() {
        let issues = schema()
            .validate_json(
                &json(r#"{"EXT_SOURCE_2": "0.6", "AMT_CREDIT": -1, "FLAG_OWN_CAR": "maybe", "EXT_SOURCE2": 1, "DAYS_EMPLOYED": 1.5}"#),
                "data[3].",
            )
            .unwrap_err();
        let by_path: Vec<(&str, IssueCode)> = issues.iter().map(|i| (i.path.as_str(), i.code)).collect();
        assert!(by_path.contains(&("data[3].EXT_SOURCE2", IssueCode::UnknownField)));
        assert!(
            issues.iter().any(|i| i.expected.contains("EXT_SOURCE_2")),
            "typo hint names the closest field"
        );
        assert!(by_path.contains(&("data[3].SK_ID_CURR", IssueCode::MissingRequired)));
        assert!(by_path.contains(&("data[3].EXT_SOURCE_2", IssueCode::WrongType)));
        assert!(by_path.contains(&("data[3].AMT_CREDIT", IssueCode::OutOfRange)));
        assert!(by_path.contains(&("data[3].FLAG_OWN_CAR", IssueCode::UnknownCategory)));
        assert!(by_path.contains(&("data[3].DAYS_EMPLOYED", IssueCode::NotInteger)));
        assert_eq!(issues.len(), 6);
    }

    #[test]
    fn nullable_required_field_accepts_explicit_null_only() {
        let mut spec = schema().into_spec();
        spec.inputs[0].nullable = true;
        let s = Schema::try_from(spec).unwrap();
        let base = r#""SK_ID_CURR": 1, "AMT_CREDIT": 1, "FLAG_OWN_CAR": "N""#;
        let r = s.validate_json(&json(&format!("{{{base}, \"EXT_SOURCE_2\": null}}")), "").unwrap();
        assert!(r.features[0].is_nan());
        let issues = s.validate_json(&json(&format!("{{{base}}}")), "").unwrap_err();
        assert_eq!(issues[0].code, IssueCode::MissingRequired);
    }

    #[test]
    fn training_range_gives_warning_not_error() {
        let r = schema()
            .validate_json(
                &json(r#"{"SK_ID_CURR": 1, "EXT_SOURCE_2": 0.99, "AMT_CREDIT": 1, "FLAG_OWN_CAR": "N"}"#),
                "",
            )
            .unwrap();
        assert_eq!(r.warnings[0].code, WarningCode::OutsideTrainingRange);
    }

    #[test]
    fn csv_cells_parse_by_field_type() {
        let s = schema();
        let r = s
            .validate(
                [
                    ("SK_ID_CURR", RawValue::Cell("7")),
                    ("EXT_SOURCE_2", RawValue::Cell(" 0.5")),
                    ("AMT_CREDIT", RawValue::Cell("10")),
                    ("AMT_INCOME_TOTAL", RawValue::Cell("0")),
                    ("FLAG_OWN_CAR", RawValue::Cell("N")),
                    ("DAYS_EMPLOYED", RawValue::Cell("")),
                ],
                "",
            )
            .unwrap();
        assert_eq!(r.features[0], 0.5);
        assert!(r.features[3].is_nan(), "division by zero is missing");
        assert_eq!(r.features[4], 0.0);
    }

    #[test]
    fn schema_round_trips_through_json() {
        let s = schema();
        let text = serde_json::to_string(&s).unwrap();
        let back: Schema = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
    }

    /// A Home Credit-like schema with the synonyms, codes, an unused dictionary column and the
    /// label, as train/creditscore_train/dictionary.py writes them.
    fn home_credit() -> Schema {
        let cat = |name: &str, names: &[&str], spellings: &[(&str, &str)], codes: &[&str], required: bool| {
            let spec = CategoricalSpec {
                levels: levels(names),
                aliases: aliases(spellings),
                codes: levels(codes),
                unknown: if required { UnknownLevel::Reject } else { UnknownLevel::Missing },
                ..Default::default()
            };
            categorical_input(name, required, false, spec)
        };
        let flag = [
            ("yes", "Y"),
            ("true", "Y"),
            ("t", "Y"),
            ("1", "Y"),
            ("no", "N"),
            ("false", "N"),
            ("f", "N"),
            ("0", "N"),
        ];
        let gender = [("female", "F"), ("woman", "F"), ("w", "F"), ("male", "M"), ("man", "M")];
        let s = Schema::new(
            "SK_ID_CURR".into(),
            true,
            vec![
                cat("CODE_GENDER", &["F", "M"], &gender, &["XNA"], true),
                cat("FLAG_OWN_CAR", &["N", "Y"], &flag, &[], true),
                cat("ORGANIZATION_TYPE", &["Bank", "Business Entity Type 3", "XNA"], &[], &["XNA"], false),
                cat("NAME_FAMILY_STATUS", &["Married", "Single / not married"], &[], &["Unknown"], false),
                cat("NAME_TYPE_SUITE", &["Family", "Spouse, partner"], &[], &[], false),
                // In the dictionary, not read by the model.
                numeric_input(
                    "APARTMENTS_AVG",
                    false,
                    false,
                    NumericSpec { valid_min: Some(0.0), valid_max: Some(1.0), ..Default::default() },
                ),
                cat("EMERGENCYSTATE_MODE", &["No", "Yes"], &[], &[], false),
            ],
            vec![],
            vec![
                "CODE_GENDER".into(),
                "FLAG_OWN_CAR".into(),
                "ORGANIZATION_TYPE".into(),
                "NAME_FAMILY_STATUS".into(),
                "NAME_TYPE_SUITE".into(),
            ],
        )
        .unwrap();
        let mut spec = s.into_spec();
        spec.labels = vec!["TARGET".into()];
        Schema::try_from(spec).unwrap()
    }

    fn row(s: &Schema, record: &str) -> Result<ValidRecord, Vec<FieldIssue>> {
        s.validate_json(&json(record), "data.")
    }

    #[test]
    fn categories_ignore_case_and_spacing_for_levels_and_aliases() {
        let s = home_credit();
        for (gender, car, code) in [
            (r#""female""#, r#""true""#, [0.0, 1.0]),
            (r#"" F ""#, r#""y""#, [0.0, 1.0]),
            (r#""WOMAN""#, "true", [0.0, 1.0]),
            (r#""Male""#, r#""No""#, [1.0, 0.0]),
            (r#""m""#, "false", [1.0, 0.0]),
            (r#""W""#, r#""F""#, [0.0, 0.0]),
            (r#""man""#, r#"" 0""#, [1.0, 0.0]),
        ] {
            let r =
                row(&s, &format!(r#"{{"SK_ID_CURR": 1, "CODE_GENDER": {gender}, "FLAG_OWN_CAR": {car}}}"#))
                    .unwrap_or_else(|e| panic!("{gender} {car}: {e:?}"));
            assert_eq!(r.features[..2], code, "{gender} {car}");
            assert!(r.warnings.is_empty());
        }
        // Inner whitespace runs count as one space; case is ignored in multi-word levels too.
        let r = row(
            &s,
            r#"{"SK_ID_CURR": 1, "CODE_GENDER": "F", "FLAG_OWN_CAR": "N", "ORGANIZATION_TYPE": "business  entity type 3", "NAME_TYPE_SUITE": "SPOUSE, PARTNER"}"#,
        )
        .unwrap();
        assert_eq!(r.features[2], 1.0);
        assert_eq!(r.features[4], 1.0);
    }

    #[test]
    fn one_reading_for_the_scorer_and_the_drift_report() {
        use InputReading as R;
        let s = home_credit();
        let car = s.input("FLAG_OWN_CAR").unwrap();
        let org = s.input("ORGANIZATION_TYPE").unwrap();
        let gender = s.input("CODE_GENDER").unwrap();
        assert_eq!(car.read(Some(RawValue::Bool(true))), R::Level { code: 1, via_code: false });
        assert_eq!(car.read(Some(RawValue::Cell(" false "))), R::Level { code: 0, via_code: false });
        assert_eq!(car.read(Some(RawValue::Cell("  "))), R::Missing);
        assert_eq!(car.read(None), R::Missing);
        assert_eq!(car.read(Some(RawValue::Number(1.0))), R::Invalid(IssueCode::WrongType));
        assert_eq!(gender.read(Some(RawValue::Bool(true))), R::Invalid(IssueCode::WrongType));
        assert_eq!(gender.read(Some(RawValue::String("XNA"))), R::Sentinel);
        assert_eq!(org.read(Some(RawValue::String("xna"))), R::Level { code: 2, via_code: true });
        assert_eq!(org.read(Some(RawValue::Cell("Bakery"))), R::UnknownLevel("Bakery"));
        let days = InputField {
            name: "DAYS_EMPLOYED".into(),
            required: false,
            nullable: false,
            description: String::new(),
            kind: InputKind::Numeric(NumericSpec {
                integer: true,
                valid_max: Some(400_000.0),
                sentinel: Some(365_243.0),
                ..Default::default()
            }),
        };
        assert_eq!(days.read(Some(RawValue::Cell("-1200"))), R::Number(-1200.0));
        assert_eq!(days.read(Some(RawValue::Cell("365243.0"))), R::Sentinel);
        assert_eq!(days.read(Some(RawValue::Number(365_243.0))), R::Sentinel);
        assert_eq!(days.read(Some(RawValue::Cell("NA"))), R::Invalid(IssueCode::WrongType));
        assert_eq!(days.read(Some(RawValue::Cell("nan"))), R::Invalid(IssueCode::NotFinite));
        assert_eq!(days.read(Some(RawValue::Cell("1e400"))), R::Invalid(IssueCode::NotFinite));
        assert_eq!(days.read(Some(RawValue::Cell("true"))), R::Invalid(IssueCode::WrongType));
        assert_eq!(days.read(Some(RawValue::String("12"))), R::Invalid(IssueCode::WrongType));
        assert_eq!(days.read(Some(RawValue::Number(1.5))), R::Invalid(IssueCode::NotInteger));
        assert_eq!(days.read(Some(RawValue::Number(500_000.0))), R::Invalid(IssueCode::OutOfRange));
        // `validate` reports the same codes (it reads through `read`).
        let one =
            Schema::new("SK_ID_CURR".into(), true, vec![days], vec![], vec!["DAYS_EMPLOYED".into()]).unwrap();
        for (cell, code) in
            [("NA", IssueCode::WrongType), ("1.5", IssueCode::NotInteger), ("inf", IssueCode::NotFinite)]
        {
            let issues = one
                .validate([("SK_ID_CURR", RawValue::Cell("1")), ("DAYS_EMPLOYED", RawValue::Cell(cell))], "")
                .unwrap_err();
            assert_eq!(issues[0].code, code, "{cell}");
        }
    }

    #[test]
    fn ambiguous_or_undeclared_spellings_are_rejected() {
        let s = home_credit();
        // 0/1 and booleans mean nothing for CODE_GENDER; numbers are no category for any field.
        for gender in [r#""0""#, r#""1""#, "true", "0", r#""femme""#, r#""f m""#] {
            let issues =
                row(&s, &format!(r#"{{"SK_ID_CURR": 1, "CODE_GENDER": {gender}, "FLAG_OWN_CAR": "N"}}"#))
                    .unwrap_err();
            assert_eq!(issues.len(), 1, "{gender}");
            assert_eq!(issues[0].path, "data.CODE_GENDER");
            assert!(issues[0].expected.contains("\"female\""), "{}", issues[0].expected);
        }
        let issues = row(&s, r#"{"SK_ID_CURR": 1, "CODE_GENDER": "F", "FLAG_OWN_CAR": 1}"#).unwrap_err();
        assert_eq!(issues[0].code, IssueCode::WrongType);
        // Two levels equal once case is ignored: only their exact spellings are accepted.
        let spec = CategoricalSpec { levels: vec!["a".into(), "A".into()], ..Default::default() };
        assert_eq!(spec.match_text("A"), LevelMatch::Level(1));
        assert_eq!(spec.match_text(" a"), LevelMatch::Unknown);
        assert_eq!(spec.match_value(RawValue::Null), LevelMatch::WrongType);
    }

    #[test]
    fn dataset_codes_are_missing_with_a_warning_unless_trained_as_a_level() {
        let s = home_credit();
        let r = row(
            &s,
            r#"{"SK_ID_CURR": 1, "CODE_GENDER": "XNA", "FLAG_OWN_CAR": "N", "ORGANIZATION_TYPE": "xna", "NAME_FAMILY_STATUS": "Unknown"}"#,
        )
        .unwrap();
        assert!(r.features[0].is_nan(), "CODE_GENDER XNA is missing");
        assert_eq!(r.features[2], 2.0, "ORGANIZATION_TYPE XNA is the level the model was trained with");
        assert!(r.features[3].is_nan(), "NAME_FAMILY_STATUS Unknown is missing");
        let warned: Vec<(&str, WarningCode)> =
            r.warnings.iter().map(|w| (w.field.as_str(), w.code)).collect();
        assert_eq!(
            warned,
            [
                ("CODE_GENDER", WarningCode::SentinelValue),
                ("ORGANIZATION_TYPE", WarningCode::SentinelValue),
                ("NAME_FAMILY_STATUS", WarningCode::SentinelValue)
            ]
        );
        assert!(r.warnings[0].message.contains("scored as missing"));
        assert!(r.warnings[1].message.contains("as the model was trained"));
    }

    #[test]
    fn dictionary_columns_are_type_checked_not_scored() {
        let s = home_credit();
        assert!(s.is_used("CODE_GENDER") && !s.is_used("APARTMENTS_AVG") && !s.is_used("NOPE"));
        let base = r#""SK_ID_CURR": 1, "CODE_GENDER": "F", "FLAG_OWN_CAR": "N""#;
        let plain = row(&s, &format!("{{{base}}}")).unwrap();
        let full = row(&s, &format!(r#"{{{base}, "APARTMENTS_AVG": 0.3, "EMERGENCYSTATE_MODE": "maybe"}}"#))
            .unwrap();
        assert_eq!(full.features.len(), 5);
        assert!(full.features.iter().zip(&plain.features).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(full.warnings.is_empty(), "no warnings about columns the model does not read");
        for bad in [r#""APARTMENTS_AVG": "0.3""#, r#""APARTMENTS_AVG": 1.5"#, r#""EMERGENCYSTATE_MODE": 1"#] {
            let issues = row(&s, &format!("{{{base}, {bad}}}")).unwrap_err();
            assert_eq!(issues.len(), 1, "{bad}");
        }
    }

    #[test]
    fn label_and_unknown_names_are_rejected() {
        let s = home_credit();
        let issues = row(
            &s,
            r#"{"SK_ID_CURR": 1, "CODE_GENDER": "F", "FLAG_OWN_CAR": "N", "TARGET": 0, "APARTMENTS_AVGG": 0.1}"#,
        )
        .unwrap_err();
        let by_path = |p: &str| issues.iter().find(|i| i.path == p).unwrap();
        assert_eq!(issues.len(), 2);
        assert_eq!(by_path("data.TARGET").code, IssueCode::LabelNotInput);
        let typo = by_path("data.APARTMENTS_AVGG");
        assert_eq!(typo.code, IssueCode::UnknownField);
        assert!(typo.expected.contains("`APARTMENTS_AVG`"), "{}", typo.expected);
    }

    #[test]
    fn client_ids_are_whole_numbers_up_to_2_pow_53_minus_1() {
        let s = home_credit();
        let id =
            |v: &str| row(&s, &format!(r#"{{"SK_ID_CURR": {v}, "CODE_GENDER": "F", "FLAG_OWN_CAR": "N"}}"#));
        assert_eq!(id("9007199254740991").unwrap().id, Some(MAX_ID));
        assert_eq!(id("0").unwrap().id, Some(0));
        for (v, code) in [
            ("9007199254740992", IssueCode::OutOfRange),
            ("18446744073709551615", IssueCode::OutOfRange),
            ("1e300", IssueCode::OutOfRange),
            ("-1", IssueCode::OutOfRange),
            ("1.5", IssueCode::NotInteger),
        ] {
            let issues = id(v).unwrap_err();
            assert_eq!(issues[0].code, code, "{v}");
            assert!(issues[0].expected.contains("9007199254740991"));
        }
    }

    #[test]
    fn closest_name_needs_to_be_close() {
        let known = ["AMT_CREDIT", "DAYS_BIRTH"];
        assert_eq!(closest("amt_credit", known.iter().copied()), Some("AMT_CREDIT"));
        assert_eq!(closest("zzzzzzzz", known.iter().copied()), None);
    }
}
