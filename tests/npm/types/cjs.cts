// Type-checked as CommonJS (require) against the installed package's declarations.
import creditscore = require('creditscore');

const scorer: creditscore.CreditScorer = creditscore.loadModelSync(creditscore.defaultModelPath);
const p: creditscore.Prediction = scorer.score({ SK_ID_CURR: 1 });
// @ts-expect-error: records are objects of numbers, strings, booleans or null
scorer.score({ EXT_SOURCE_2: [1, 2] });
console.log(p.probability.toFixed(3));
