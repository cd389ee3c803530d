// Type-checked (tsc --noEmit, module nodenext) against the installed package's declarations.
import {
  CreditScorer,
  loadDefaultModel,
  loadDefaultModelSync,
  type ClientRecord,
  type CreditScoreError,
  type Explanation,
  type FeaturesDocument,
  type FieldIssue,
  type ModelMetadata,
  type Prediction,
  type ValidationResult,
} from 'creditscore';

const record: ClientRecord = { SK_ID_CURR: 100002, EXT_SOURCE_2: 0.61, CODE_GENDER: 'M', EXT_SOURCE_1: null };
const scorer: CreditScorer = loadDefaultModelSync();
const p: Prediction = scorer.score(record, 0.4);
const decision: 0 | 1 = p.prediction;
const batch: Prediction[] = scorer.scoreBatch([record]);
const e: Explanation = scorer.explain(record);
const top: number = e.contributions[0].contribution;
const v: ValidationResult = scorer.validate(record);
const issues: FieldIssue[] = v.errors;
const doc: FeaturesDocument = scorer.features(true);
const meta: ModelMetadata = scorer.metadata;
const t: number = scorer.threshold;
const later: Promise<CreditScorer> = loadDefaultModel();
try {
  scorer.score({});
} catch (error) {
  const e2 = error as CreditScoreError;
  const code: 'invalid_bundle' | 'invalid_argument' | 'validation_error' = e2.code;
  console.log(code, e2.details[0]?.path);
}
console.log(decision, batch, top, issues, doc.required_features, meta.sha256, t, later);
