/** A client record: feature name -> value (numbers as numbers, categories as strings). */
export type ClientRecord = Record<string, number | string | boolean | null | undefined>;

/** What is wrong with one field: an entry of the HTTP API's 422 `details`. */
export interface FieldIssue {
  /** `data.AMT_CREDIT` for a single record, `data[3].AMT_CREDIT` in a batch. */
  path: string;
  code: "not_an_object" | "missing_required" | "wrong_type" | "not_integer" | "not_finite"
    | "out_of_range" | "unknown_category" | "unknown_field" | "label_not_input" | "too_many_issues";
  reason: string;
  expected: string;
}

/** A plausible value outside what training saw: scored, and reported. */
export interface Warning {
  field: string;
  code: "outside_training_range" | "sentinel_value" | "unknown_category_as_missing";
  message: string;
}

/** A feature that pushed the score towards refusal (largest positive SHAP contributions). */
export interface Reason {
  /** Stable code `<FEATURE>.<direction>`, direction one of low, high, value, level, missing, flag. */
  code: string;
  /** Model feature. */
  feature: string;
  /** The value the model saw: a number, a category level, or null when missing. */
  value: number | string | null;
  /** Training median or most frequent level (a ratio: ratio of its inputs' typical values). */
  typical: number | string | null;
  /** The inputs a derived feature comes from (empty for an input). */
  inputs: Array<{ name: string; value: number | string | null; typical: number | string | null }>;
  /** SHAP value in raw-score (log-odds) units, > 0. */
  contribution: number;
  /** e.g. "EXT_SOURCE_3 is low: 0.21, typical 0.51". */
  sentence: string;
}

export interface Prediction {
  sk_id_curr: number | null;
  /** Probability of default. */
  probability: number;
  /** Score points on the bundle's scorecard scale (default 600 at 50:1 good:bad odds, 20 points
   * to double the odds): higher = safer. */
  score: number;
  /** 1 = predicted default = refuse (probability >= threshold), 0 = accept. */
  prediction: 0 | 1;
  /** Margin (log-odds) before the link function. */
  raw_score: number;
  /** The threshold the decision used. */
  threshold: number;
  warnings: Warning[];
  /** Present for a refused record (4 reasons), or for every record when `reasons` was given. */
  reasons?: Reason[];
}

export interface Contribution {
  feature: string;
  /** The value the model saw: a number, a category level, or null when missing. */
  value: number | string | null;
  /** SHAP value in raw-score (log-odds) units. */
  contribution: number;
}

export interface Explanation {
  sk_id_curr: number | null;
  /** Decision at `threshold`, as in `Prediction`. */
  prediction: 0 | 1;
  threshold: number;
  /** Expected raw score over the training data (SHAP bias). */
  base_value: number;
  raw_score: number;
  probability: number;
  /** Score points, as in `Prediction`. */
  score: number;
  /** One per model feature, largest |contribution| first; base_value + sum = raw_score. */
  contributions: Contribution[];
  warnings: Warning[];
}

export interface ValidationResult {
  valid: boolean;
  sk_id_curr: number | null;
  errors: FieldIssue[];
  warnings: Warning[];
}

export interface ModelMetadata {
  name: string;
  version: string;
  created: string;
  source: string;
  sha256: string;
  /** Business-optimal decision threshold chosen in training. */
  threshold: number;
  num_features: number;
  num_trees: number;
  metrics: Record<string, number>;
  training: unknown;
}

export interface ValueRange {
  min: number | null;
  max: number | null;
}

/** One input as the HTTP API's `GET /features` describes it. */
export interface InputDescription {
  name: string;
  type: "number" | "integer" | "category";
  unit?: string;
  /** Physically possible values: outside is rejected. */
  valid_range?: ValueRange;
  /** Values seen in training: outside is scored with a warning. */
  training_range?: ValueRange;
  sentinel?: { value: number; meaning: string };
  levels?: string[];
  aliases?: Record<string, string>;
  example: number | string | null;
  /** Value used when the input is absent (optional inputs; null = missing). */
  default?: number | string | null;
  nullable: boolean;
  /** Human description of accepted values. */
  expected: string;
  description?: string;
  /** Only in `known_not_used`: "known, not used by this model". */
  status?: string;
}

/** The HTTP API's `GET /features[?include_all=true]` body. */
export interface FeaturesDocument {
  model_version: string;
  id_field: { name: string; type: "integer"; required: boolean; example: number };
  required_features: string[];
  required: InputDescription[];
  optional?: InputDescription[];
  /** The rest of the dataset's column dictionary: accepted, checked, logged, not scored. */
  known_not_used?: InputDescription[];
  /** Training labels (`TARGET`): a record carrying one is rejected (`label_not_input`). */
  labels?: string[];
  derived?: Array<{ name: string; op: string; [argument: string]: string }>;
  model_features?: string[];
  threshold?: number;
  feature_selection?: {
    method: string;
    top_n: number;
    min_corr: number;
    scores: Array<{ feature: string; score: number }>;
    selected: string[];
  } | null;
}

/** Thrown for a bad bundle, a bad argument or an invalid record. */
export interface CreditScoreError extends Error {
  name: "CreditScoreError";
  code: "invalid_bundle" | "invalid_argument" | "validation_error";
  /** Every field problem (empty unless code is "validation_error"). */
  details: FieldIssue[];
}
