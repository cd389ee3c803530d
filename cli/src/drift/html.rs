//! The HTML report: one self-contained file, inline CSS and SVG, no JavaScript. Its size depends
//! on the number of features (and capped lists), never on the number of log lines.

use std::fmt::Write;

use creditscore_core::drift::numeric::fmt_num;
use creditscore_core::drift::{Comparison, FeatureDrift, KsMethod, Status};
use creditscore_core::schema::shorten;

use super::Summary;

const REF_COLOR: &str = "#8a8f98";
const CUR_COLOR: &str = "#1f6feb";
const MAX_BARS: usize = 30;

pub fn render(s: &Summary) -> String {
    let mut h = String::with_capacity(256 * 1024);
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Drift report: {name} {version}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}}
main{{max-width:1180px;margin:0 auto;padding:24px}}
h1{{margin:0 0 4px;font-size:26px}} h2{{margin:32px 0 12px;font-size:20px;border-bottom:1px solid #d0d7de;padding-bottom:4px}}
h3{{margin:0 0 8px;font-size:16px}}
.meta{{color:#57606a;font-size:14px;line-height:1.6}}
table{{border-collapse:collapse;width:100%;background:#fff;font-size:13px}}
th,td{{border:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}}
th{{background:#eef1f4}} td.num{{text-align:right;font-variant-numeric:tabular-nums}}
.badge{{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}}
.drift{{background:#cf222e}} .watch{{background:#bf8700}} .insufficient_data{{background:#6e7781}} .ok{{background:#1a7f37}} .not_sent{{background:#8c959f}}
.scroll{{overflow-x:auto}} code{{overflow-wrap:anywhere}}
ul.headline{{margin:8px 0;padding-left:20px;font-size:15px;line-height:1.5}}
.cards{{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:16px}}
.card{{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px}}
.card.drift{{border-left:5px solid #cf222e;background:#fff}} .card.watch{{border-left:5px solid #bf8700;background:#fff}}
.card.ok,.card.insufficient_data{{background:#fff}}
.legend span{{display:inline-block;width:12px;height:12px;margin:0 4px -2px 10px}}
.note{{font-size:13px;color:#57606a}} code{{background:#eef1f4;padding:1px 4px;border-radius:3px}}
.kpis{{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}}
.kpi{{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:120px}}
.kpi b{{display:block;font-size:20px}} .kpi small{{color:#57606a}}
p.reason,b.reason{{font-weight:600;color:#1b1f24}} svg{{max-width:100%;height:auto}} details summary{{cursor:pointer;font-size:13px;color:#57606a}}
.card{{min-width:0}}
@media (max-width:600px){{main{{padding:12px}} .cards{{grid-template-columns:1fr}}}}
</style></head><body><main>
"#,
        name = esc(&s.bundle.name),
        version = esc(&s.bundle.version)
    );

    // Header.
    let count = |st: Status| s.features.iter().filter(|f| f.status == st).count();
    let _ = write!(
        h,
        r#"<h1>Data drift report <span class="badge {st}">{st_text}</span></h1>
{headline}<div class="meta">Model <b>{name}</b> version <b>{version}</b> (sha256 <code>{sha}</code>, threshold {thr})<br>
Reference: {origin}<br>
Logs: <code>{path}</code>, {lines} lines, {records} records ({scored} scored, {errors} errors, {duplicates} duplicates dropped), {malformed} malformed, period {first} to {last}</div>
<div class="kpis">
<div class="kpi"><b>{n_drift}</b><small>inputs drifting</small></div>
<div class="kpi"><b>{n_watch}</b><small>to watch</small></div>
<div class="kpi"><b>{n_insuf}</b><small>insufficient data</small></div>
<div class="kpi"><b>{n_ok}</b><small>stable</small></div>
<div class="kpi"><b>{refusal}</b><small>refusal rate (reference {ref_refusal})</small></div>
<div class="kpi"><b>{error_share}</b><small>error share</small></div>
<div class="kpi"><b>{p50} / {p99}</b><small>latency p50 / p99 (ms)</small></div>
</div>
"#,
        st = s.status.as_str(),
        st_text = s.status.as_str().replace('_', " "),
        headline = if s.headline.is_empty() {
            String::from(
                "<ul class=\"headline\"><li>Inputs, score distribution and refusal rate are stable.</li></ul>",
            )
        } else {
            format!(
                "<ul class=\"headline\">{}</ul>",
                s.headline.iter().map(|l| format!("<li>{}</li>", esc(l))).collect::<String>()
            )
        },
        name = esc(&s.bundle.name),
        version = esc(&s.bundle.version),
        sha = esc(s.bundle.sha256.get(..12).unwrap_or(&s.bundle.sha256)),
        thr = fmt_num(s.bundle.threshold),
        origin = esc(&s.reference.origin),
        path = esc(&s.logs.path),
        lines = s.logs.lines,
        records = s.logs.records,
        duplicates = s.logs.duplicate_records,
        scored = s.logs.scored,
        errors = s.logs.errors,
        malformed = s.logs.malformed_lines,
        first = esc(s.logs.first_ts.as_deref().unwrap_or("?")),
        last = esc(s.logs.last_ts.as_deref().unwrap_or("?")),
        n_drift = count(Status::Drift),
        n_watch = count(Status::Watch),
        n_insuf = count(Status::InsufficientData),
        n_ok = count(Status::Ok),
        refusal = pct(s.score.current_refusal_rate),
        ref_refusal = pct(s.score.reference_refusal_rate),
        error_share = pct(s.logs.error_share),
        p50 = ms(s.latency_us.p50),
        p99 = ms(s.latency_us.p99),
    );

    // Feature table.
    h.push_str("<h2>Features (drifted first)</h2>\n<div class=\"scroll\"><table><tr><th>Feature</th><th>Type</th><th>Status</th><th>Why</th><th>KS D</th><th>p (BH-adjusted)</th><th>PSI</th><th>Missing: reference → current</th><th>Current values</th></tr>\n");
    for f in s.features.iter().filter(|f| f.status != Status::NotSent) {
        feature_row(&mut h, f);
    }
    h.push_str("</table></div>\n");
    let not_sent: Vec<String> =
        s.features.iter().filter(|f| f.status == Status::NotSent).map(|f| esc(&f.name)).collect();
    if !not_sent.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\"><b>Not sent by the clients</b> (absent from at least {:.0} % of the records; not judged): {}</p>",
            (1.0 - s.thresholds.config.not_sent_max_share) * 100.0,
            not_sent.join(", ")
        );
    }
    if !s.skipped_features.is_empty() {
        h.push_str("<p class=\"note\">Not compared: ");
        let items: Vec<String> = s
            .skipped_features
            .iter()
            .map(|k| format!("<b>{}</b> ({})", esc(&k.feature), esc(&k.reason)))
            .collect();
        h.push_str(&items.join("; "));
        h.push_str("</p>\n");
    }

    if !s.by_version.is_empty() {
        h.push_str("<h2>By model version</h2>\n<p class=\"note\">Each version's records judged on their own against the reference (its own tests and adjustment); the status at the top is that of all records.</p><div class=\"scroll\"><table><tr><th>model_version</th><th>Records</th><th>Status</th><th>Why</th><th>Inputs drifting</th></tr>\n");
        for v in &s.by_version {
            let drifting: Vec<&str> =
                v.features.iter().filter(|f| f.status == Status::Drift).map(|f| f.name.as_str()).collect();
            let _ = writeln!(
                h,
                "<tr><td>{name}{own}</td><td class=num>{records} ({errors} errors)</td><td><span class=\"badge {st}\">{st_text}</span></td><td>{why}</td><td>{drifting}</td></tr>",
                name = esc(&v.model_version),
                own = if v.is_bundle_version { " (the bundle's)" } else { "" },
                records = v.records,
                errors = v.errors,
                st = v.status.as_str(),
                st_text = v.status.as_str().replace('_', " "),
                why = if v.verdict.reasons.is_empty() {
                    String::from("—")
                } else {
                    esc(&v.verdict.reasons.join("; "))
                },
                drifting = if drifting.is_empty() { String::from("—") } else { esc(&drifting.join(", ")) },
            );
        }
        h.push_str("</table></div>\n");
    }

    // Scores.
    h.push_str("<h2>Scores</h2>\n<div class=\"cards\">\n<div class=\"card\"><h3>Predicted probability distribution</h3>");
    legend(&mut h);
    h.push_str(&probability_histogram(s));
    if let Some(c) = &s.score.comparison {
        let _ = write!(
            h,
            "<p>Status <span class=\"badge {0}\">{0}</span> {1}</p>",
            c.status.as_str(),
            stats_line(c)
        );
    } else {
        h.push_str("<p class=\"note\">No reference scores: distribution shown without comparison.</p>");
    }
    if let Some(r) = &s.score.refusal {
        let _ = write!(
            h,
            "<p>Refusal rate <span class=\"badge {0}\">{0}</span> {1:.1} % → {2:.1} % (two-proportion test, adjusted p {3}, Cohen's h {4:.2})</p>",
            r.status.as_str(),
            r.reference_rate * 100.0,
            r.current_rate * 100.0,
            creditscore_core::drift::fmt_p(r.p_adjusted),
            r.cohens_h
        );
    }
    if !s.score.comparable {
        let _ = write!(
            h,
            "<p class=\"note\">Not part of the verdict: the reference scores were computed with {} inputs the clients do not send ({}), which the model sees as missing in production.</p>",
            s.score.reference_inputs_not_sent.len(),
            esc(&s.score.reference_inputs_not_sent.join(", "))
        );
    }
    h.push_str("</div>\n<div class=\"card\"><h3>Refusal and error rate over time</h3>");
    let _ = write!(
        h,
        "<div class=\"legend\"><span style=\"background:{CUR_COLOR}\"></span>refusal rate<span style=\"background:#cf222e\"></span>error rate<span style=\"background:{REF_COLOR}\"></span>reference refusal rate</div>"
    );
    h.push_str(&time_chart(s));
    let o = &s.score.time_outliers;
    if o.records > 0 {
        let _ = write!(
            h,
            "<p class=\"note\">{} record(s) with times far outside the rest ({} to {}; a client clock?) are counted but not drawn, so that they do not squeeze the chart.</p>",
            o.records,
            esc(o.first.as_deref().unwrap_or("?")),
            esc(o.last.as_deref().unwrap_or("?"))
        );
    }
    h.push_str("</div>\n</div>\n");
    let l = &s.latency_us;
    let _ = writeln!(
        h,
        "<h3 style=\"margin-top:16px\">Latency (ms, {} records; percentiles within {:.0} %)</h3><table><tr><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr><tr><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td></tr></table>",
        l.count,
        l.relative_resolution * 100.0,
        ms(l.mean),
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.max)
    );

    // Data quality.
    h.push_str("<h2>Data quality</h2>\n");
    if s.warnings.is_empty() {
        h.push_str("<p>No validation warnings in the logs.</p>\n");
    } else {
        h.push_str("<table><tr><th>Field</th><th>Warning</th><th>Count</th></tr>\n");
        for w in &s.warnings {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=num>{}</td></tr>",
                esc(&w.field),
                esc(&w.code),
                w.count
            );
        }
        h.push_str("</table>\n");
    }
    reading_table(&mut h, s);
    if !s.logs.non_finite_inputs.is_empty() {
        let items: Vec<String> =
            s.logs.non_finite_inputs.iter().map(|(k, c)| format!("{} ({c})", esc(k))).collect();
        let _ = writeln!(
            h,
            "<p>Non-finite numbers (NaN, Infinity, 1e400; counted as missing for that input only, the rest of the record is used): {}</p>",
            items.join(", ")
        );
    }
    if s.logs.duplicate_keys > 0 {
        let _ = writeln!(
            h,
            "<p>{} repeated keys in {} records (the last value is used, as Python's json does).</p>",
            s.logs.duplicate_keys, s.logs.records_with_duplicate_keys
        );
    }
    if s.logs.records_with_naive_ts + s.logs.records_with_unreadable_ts > 0 {
        let _ = writeln!(
            h,
            "<p>Timestamps: {} without a time zone (read as UTC); {} unreadable (records kept, without a time).</p>",
            s.logs.records_with_naive_ts, s.logs.records_with_unreadable_ts
        );
    }
    if !s.logs.errors_by_code.is_empty() {
        let items: Vec<String> =
            s.logs.errors_by_code.iter().map(|(k, c)| format!("{} ({c})", esc(k))).collect();
        let _ = writeln!(h, "<p>Failed requests by error code: {}</p>", items.join(", "));
    }
    if !s.type_mismatches.is_empty() {
        let items: Vec<String> = s.type_mismatches.iter().map(|(k, c)| format!("{} ({c})", esc(k))).collect();
        let _ = writeln!(h, "<p>Inputs of an unexpected type (counted as missing): {}</p>", items.join(", "));
    }
    let _ = writeln!(
        h,
        "<p><b>{}</b> malformed log line(s) of {} (skipped, never fatal); {} blank.</p>",
        s.logs.malformed_lines, s.logs.lines, s.logs.blank_lines
    );
    if !s.logs.malformed_examples.is_empty() {
        h.push_str("<table><tr><th>Line</th><th>Problem</th></tr>\n");
        for m in &s.logs.malformed_examples {
            let at = match &m.file {
                Some(f) => format!("{}:{}", esc(f), m.line),
                None => m.line.to_string(),
            };
            let _ = writeln!(h, "<tr><td class=num>{at}</td><td>{}</td></tr>", esc(&m.reason));
        }
        h.push_str("</table>\n");
    }
    if s.logs.model_versions.len() > 1 {
        let items: Vec<String> =
            s.logs.model_versions.iter().map(|(v, c)| format!("{} ({c})", esc(v))).collect();
        let _ = writeln!(h, "<p>Several model versions in these logs: {}</p>", items.join(", "));
    }

    // Per-feature details.
    h.push_str("<h2>Feature details</h2>\n<div class=\"cards\">\n");
    for f in s.features.iter().filter(|f| f.status != Status::NotSent) {
        feature_card(&mut h, f);
    }
    h.push_str("</div>\n");

    // Method.
    let t = &s.thresholds;
    let _ = write!(
        h,
        r#"<h2>Method</h2><div class="note"><p>Numeric inputs: two-sample Kolmogorov-Smirnov test computed as <code>scipy.stats.ks_2samp</code>; {ks_note} PSI on {bins} reference-decile bins (right-closed; fewer when deciles coincide), each share floored at {eps}, judged by Pearson's chi-square test on the same bins. Categorical inputs: levels expected fewer than {minexp} times pooled into OTHER; PSI and the two-sample chi-square test of homogeneity over the pooled levels, effect size Cohen's w. Missing values (absent, null, non-finite, or the schema's sentinel such as DAYS_EMPLOYED = 365243) are excluded from the distributions; the missing rate and the refusal rate are tested with a two-proportion test (Yates' correction).</p>
<p>Each input is a family of tests (Bonferroni within it); the families of the report (inputs, score, refusal rate) are adjusted together with Benjamini-Hochberg. A test alarms when its adjusted p &lt; {alpha} and its effect reaches the floor: <b>drift</b> from PSI {pd}, KS D {kd}, Cohen's w {wd}, a missing-rate change of {md}, Cohen's h {hd} for the refusal rate; <b>watch</b> from PSI {pw}, D {kw}, w {ww}, {mw}, h {hw}. <b>insufficient data</b> below {minrows} current values; <b>reference too small</b> below {minref} reference values; <b>not sent</b>: present in fewer than {ns} of the records. Overall <b>drift</b> when at least {mininputs} input(s), the score distribution or the refusal rate drift. docs/DRIFT.md explains each choice.</p>
<p>Memory is bounded: current values are counted against the reference's distinct values (exact KS with a reference sample) or its percentiles (approximate), never stored. Generated by {tool}; <code>--fail-on-drift</code> exits with code {code} when the overall status is drift.</p></div>
</main></body></html>
"#,
        ks_note = if s.reference.exact_ks {
            "the reference is the full training sample, so the statistic is exact."
        } else {
            "the reference is the bundle's 101 percentiles, so the statistic is <b>approximate</b> (within 0.01) and its p-value is not used; pass <code>--reference REF.csv</code> for the exact test."
        },
        bins = t.psi_bins,
        eps = t.psi_epsilon,
        pd = t.config.psi_drift,
        pw = t.config.psi_watch,
        alpha = t.config.alpha,
        kd = t.config.ks_drift_effect,
        kw = t.config.ks_watch_effect,
        wd = t.config.cohens_w_drift,
        ww = t.config.cohens_w_watch,
        md = t.config.missing_drift,
        mw = t.config.missing_watch,
        minrows = t.config.min_current_rows,
        minref = t.config.min_reference_rows,
        minexp = t.config.min_expected_count,
        hd = t.config.refusal_drift_h,
        hw = t.config.refusal_watch_h,
        ns = pct(Some(t.config.not_sent_max_share)),
        mininputs = t.config.min_drift_inputs,
        tool = esc(&s.tool),
        code = s.exit_code_on_drift,
    );
    h
}

fn feature_row(h: &mut String, f: &FeatureDrift) {
    let (kind, d, psi, mref, mcur, n) = match &f.comparison {
        Comparison::Numeric(c) => (
            "numeric",
            c.ks.map(|k| format!("{:.4}{}", k.statistic, if c.ks_approximate { " ≈" } else { "" })),
            c.psi,
            c.reference_missing_rate,
            c.current_missing_rate,
            c.current_non_missing,
        ),
        Comparison::Categorical(c) => (
            "categorical",
            None,
            c.psi,
            c.reference_missing_rate,
            c.current_missing_rate,
            c.current_non_missing,
        ),
    };
    let plain = match f.status {
        Status::Drift | Status::Watch => {
            plain_reason(f).map(|r| format!("<b class=\"reason\">{}</b> ", esc(&r)))
        }
        _ => None,
    };
    let reasons = match (plain, f.reasons.is_empty()) {
        (None, true) => String::from("—"),
        (p, _) => format!("{}{}", p.unwrap_or_default(), esc(&f.reasons.join("; "))),
    };
    let _ = writeln!(
        h,
        "<tr><td><a href=\"#f-{id}\">{name}</a></td><td>{kind}</td><td><span class=\"badge {st}\">{st_text}</span></td><td>{reasons}</td><td class=num>{d}</td><td class=num>{p}</td><td class=num>{psi}</td><td class=num>{mref} → {mcur}</td><td class=num>{n}</td></tr>",
        id = anchor(&f.name),
        name = esc(&f.name),
        st = f.status.as_str(),
        st_text = f.status.as_str().replace('_', " "),
        d = d.unwrap_or_else(|| String::from("—")),
        p = f.p_adjusted.map_or(String::from("—"), creditscore_core::drift::fmt_p),
        psi = psi.map_or(String::from("—"), |p| format!("{p:.4}")),
        mref = pct(Some(mref)),
        mcur = pct(Some(mcur)),
    );
}

fn stats_line(f: &FeatureDrift) -> String {
    match &f.comparison {
        Comparison::Numeric(c) => {
            let ks = match c.ks {
                // Against percentiles the p-value would read as exact: not shown (fault 6).
                Some(k) if c.ks_approximate => {
                    format!(
                        "KS D ≈ {:.4} (approximate: reference percentiles; p-value not used)",
                        k.statistic
                    )
                }
                Some(k) => format!(
                    "KS D = {:.4}, p = {} ({})",
                    k.statistic,
                    creditscore_core::drift::fmt_p(k.pvalue),
                    if k.method == KsMethod::Exact { "exact" } else { "asymptotic" }
                ),
                None => String::from("KS not computed"),
            };
            format!(
                "{ks}; PSI = {}; mean {} → {}; n = {} reference, {} current",
                c.psi.map_or(String::from("—"), |p| format!("{p:.4}")),
                num_or_dash(c.reference_mean),
                num_or_dash(c.current_mean),
                c.reference_non_missing,
                c.current_non_missing
            )
        }
        Comparison::Categorical(c) => {
            let chi = match &c.chi_square {
                Some(x) => format!(
                    "χ² = {:.2} (df {}), p = {}, Cohen's w = {:.3}",
                    x.statistic,
                    x.dof,
                    creditscore_core::drift::fmt_p(x.pvalue),
                    x.cohens_w
                ),
                None => String::from("χ² not computed"),
            };
            format!(
                "{chi}; PSI = {}; unknown levels {}; n = {} current",
                c.psi.map_or(String::from("—"), |p| format!("{p:.4}")),
                pct(Some(c.unknown_share)),
                c.current_non_missing
            )
        }
    }
}

fn feature_card(h: &mut String, f: &FeatureDrift) {
    let _ = write!(
        h,
        "<div class=\"card {st}\" id=\"f-{id}\"><h3>{name} <span class=\"badge {st}\">{st_text}</span></h3><p class=\"note\">{line}</p>",
        st = f.status.as_str(),
        st_text = f.status.as_str().replace('_', " "),
        id = anchor(&f.name),
        name = esc(&f.name),
        line = esc(&stats_line(f)),
    );
    if let Some(r) = plain_reason(f) {
        let _ = write!(h, "<p class=\"reason\">{}</p>", esc(&r));
    }
    if !f.reasons.is_empty() {
        let _ = write!(h, "<p class=\"note\"><b>Why:</b> {}</p>", esc(&f.reasons.join("; ")));
    }
    legend(h);
    match &f.comparison {
        Comparison::Numeric(c) => {
            if !c.histogram.is_empty() {
                h.push_str(&overlaid_histogram(&f.name, &c.histogram));
            }
            if !c.ecdf.is_empty() {
                h.push_str("<details><summary>Cumulative distribution (ECDF)</summary>");
                h.push_str(&ecdf_chart(&f.name, &c.ecdf));
                h.push_str("</details>");
            }
        }
        Comparison::Categorical(c) => {
            let mut bins: Vec<_> = c.bins.iter().collect();
            bins.sort_by(|a, b| {
                b.reference_share.max(b.current_share).total_cmp(&a.reference_share.max(a.current_share))
            });
            bins.truncate(MAX_BARS);
            let labels: Vec<String> = bins.iter().map(|b| b.label.clone()).collect();
            let r: Vec<f64> = bins.iter().map(|b| b.reference_share).collect();
            let k: Vec<f64> = bins.iter().map(|b| b.current_share).collect();
            h.push_str(&bar_chart(&labels, &r, &k, 520, 190, 1));
            if !c.unknown_levels.is_empty() {
                let items: Vec<String> =
                    c.unknown_levels.iter().map(|(k, v)| format!("{} ({v})", esc(k))).collect();
                let _ = write!(h, "<p class=\"note\">Unknown levels: {}</p>", items.join(", "));
            }
        }
    }
    h.push_str("</div>\n");
}

/// Per input: values the scorer rejects, dataset codes for "not available" (DAYS_EMPLOYED =
/// 365243) and unknown levels, on the reference side and in the logs. Only inputs with any.
fn reading_table(h: &mut String, s: &Summary) {
    use creditscore_core::drift::ReadingCounts;
    let any =
        |r: Option<&ReadingCounts>| r.is_some_and(|r| r.invalid_total() + r.sentinel + r.unknown_levels > 0);
    let rows: Vec<&FeatureDrift> = s
        .features
        .iter()
        .filter(|f| any(f.reference_reading.as_ref()) || any(f.current_reading.as_ref()))
        .collect();
    if rows.is_empty() {
        return;
    }
    h.push_str("<h3>How the values were read</h3><p class=\"note\">By the scorer's own rule (the same function for the reference and the logs). Rejected values and dataset codes for \"not available\" are left out of the distributions and counted here.</p><div class=\"scroll\"><table><tr><th>Input</th><th>Side</th><th>Rows</th><th>Rejected by the scorer</th><th>\"Not available\" code (share)</th><th>Unknown levels</th></tr>\n");
    for f in rows {
        for (side, r) in [("reference", f.reference_reading.as_ref()), ("logs", f.current_reading.as_ref())] {
            let Some(r) = r else {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{side}</td><td colspan=4>bundle statistics: no cells to read</td></tr>",
                    esc(&f.name)
                );
                continue;
            };
            let rejected =
                if r.invalid_total() == 0 { String::from("0") } else { esc(&super::describe_invalid(r)) };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{side}</td><td class=num>{}</td><td>{rejected}</td><td class=num>{} ({})</td><td class=num>{}</td></tr>",
                esc(&f.name),
                r.rows,
                r.sentinel,
                pct(r.sentinel_share()),
                r.unknown_levels
            );
        }
    }
    h.push_str("</table></div>\n");
}

fn legend(h: &mut String) {
    let _ = write!(
        h,
        "<div class=\"legend\"><span style=\"background:{REF_COLOR}\"></span>reference<span style=\"background:{CUR_COLOR}\"></span>current (logs)</div>"
    );
}

/// Reference and current ECDF as step lines.
fn ecdf_chart(name: &str, points: &[creditscore_core::drift::numeric::EcdfPoint]) -> String {
    let (w, hgt, ml, mb, mt, mr) = (520.0, 200.0, 44.0, 28.0, 8.0, 12.0);
    let (x0, x1) = (points[0].x, points[points.len() - 1].x);
    let span = if x1 > x0 { x1 - x0 } else { 1.0 };
    let px = |x: f64| ml + (x - x0) / span * (w - ml - mr);
    let py = |y: f64| mt + (1.0 - y.clamp(0.0, 1.0)) * (hgt - mt - mb);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{hgt}\" viewBox=\"0 0 {w} {hgt}\" role=\"img\" aria-label=\"cumulative distribution\">"
    );
    axes(&mut svg, w, hgt, ml, mb, mt, mr);
    for (y, label) in [(0.0, "0"), (0.5, "0.5"), (1.0, "1")] {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{label}</text>",
            ml - 4.0,
            py(y) + 3.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{ml}\" y=\"{}\" font-size=\"10\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
        hgt - 10.0,
        esc(&value_in_unit(name, x0)),
        w - mr,
        hgt - 10.0,
        esc(&value_in_unit(name, x1))
    );
    for (color, pick) in [(REF_COLOR, 0), (CUR_COLOR, 1)] {
        let mut d = String::new();
        let mut prev_y = 0.0;
        for (i, p) in points.iter().enumerate() {
            let y = if pick == 0 { p.reference } else { p.current };
            if i == 0 {
                let _ = write!(d, "M{:.1},{:.1}", px(p.x), py(y));
            } else {
                let _ = write!(d, " L{:.1},{:.1} L{:.1},{:.1}", px(p.x), py(prev_y), px(p.x), py(y));
            }
            prev_y = y;
        }
        let _ = write!(svg, "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>");
    }
    svg.push_str("</svg>");
    svg
}

/// The predicted-probability histogram over the range where the data lie (the pooled 0.2 % to
/// 99.8 % of the reference and current shares of the 0.001-wide bins, in at most 25 bars), with
/// the scorecard points of the bin bounds and the median points of each side.
fn probability_histogram(s: &Summary) -> String {
    let fine = &s.score.current_histogram;
    let n = fine.len();
    let total: u64 = fine.iter().sum();
    if n == 0 || total == 0 {
        return String::from("<p class=\"note\">No logged probabilities.</p>");
    }
    let cur: Vec<f64> = fine.iter().map(|&c| c as f64 / total as f64).collect();
    let refs = &s.score.reference_histogram;
    let pooled: Vec<f64> =
        (0..n).map(|i| if refs.len() == n { (cur[i] + refs[i]) / 2.0 } else { cur[i] }).collect();
    let (mut acc, mut lo, mut hi) = (0.0, 0, n - 1);
    let mut found_lo = false;
    for (i, v) in pooled.iter().enumerate() {
        acc += v;
        if !found_lo && acc > 0.002 {
            lo = i;
            found_lo = true;
        }
        if acc >= 0.998 {
            hi = i;
            break;
        }
    }
    let group = (hi - lo + 1).div_ceil(25).max(1);
    let mut labels = Vec::new();
    let (mut r, mut c) = (Vec::new(), Vec::new());
    let mut start = lo;
    while start <= hi {
        let end = (start + group).min(n);
        // Values outside the range go to the first and last bars.
        let (a, b) = (if start == lo { 0 } else { start }, if end > hi { n } else { end });
        labels.push(format!("{:.3}", start as f64 / n as f64));
        c.push(cur[a..b].iter().sum());
        r.push(if refs.len() == n { refs[a..b].iter().sum() } else { 0.0 });
        start = end;
    }
    let every = labels.len().div_ceil(6).max(1);
    let mut out = bar_chart(&labels, &r, &c, 520, 220, every);
    let scale = s.bundle.score_scale;
    let median = |shares: &[f64]| -> Option<usize> {
        let mut acc = 0.0;
        shares.iter().position(|v| {
            acc += v;
            acc >= 0.5
        })
    };
    let points = |i: usize| scale.points((i as f64 + 0.5) / n as f64);
    let _ = write!(
        out,
        "<p class=\"note\">Bars from probability {:.3} to {:.3} ({} bins of {:.3}); score points (scorecard: {} at {}:1 odds, {} points to double the odds) {:.0} to {:.0}. Median score points: reference {}, current {:.0}.</p>",
        lo as f64 / n as f64,
        (hi + 1) as f64 / n as f64,
        labels.len(),
        group as f64 / n as f64,
        fmt_num(scale.base_points),
        fmt_num(scale.base_odds),
        fmt_num(scale.pdo),
        scale.points(lo as f64 / n as f64),
        scale.points((hi + 1) as f64 / n as f64),
        if refs.len() == n {
            median(refs).map_or(String::from("—"), |i| format!("{:.0}", points(i)))
        } else {
            String::from("—")
        },
        median(&cur).map_or(f64::NAN, points),
    );
    out
}

/// Reference and current histograms drawn over each other (same bins, translucent bars).
fn overlaid_histogram(name: &str, bins: &[creditscore_core::drift::numeric::HistogramBin]) -> String {
    let (w, hgt, ml, mb, mt, mr) = (520.0, 190.0, 44.0, 30.0, 8.0, 12.0);
    let max = bins.iter().map(|b| b.reference_share.max(b.current_share)).fold(0.0f64, f64::max).max(1e-9);
    let slot = (w - ml - mr) / bins.len().max(1) as f64;
    let py = |v: f64| mt + (1.0 - v / max) * (hgt - mt - mb);
    let mut svg = format!(
        "<svg class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{hgt}\" viewBox=\"0 0 {w} {hgt}\" role=\"img\" aria-label=\"overlaid histograms of {}\">",
        esc(name)
    );
    axes(&mut svg, w, hgt, ml, mb, mt, mr);
    share_scale(&mut svg, max, hgt, ml, mb, mt);
    for (color, current) in [(REF_COLOR, false), (CUR_COLOR, true)] {
        for (i, b) in bins.iter().enumerate() {
            let v = if current { b.current_share } else { b.reference_share };
            let y = py(v);
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\" fill-opacity=\"0.55\"><title>{} to {}: {} {:.1}%</title></rect>",
                ml + i as f64 * slot,
                slot,
                (hgt - mb - y).max(0.0),
                esc(&value_in_unit(name, b.lo)),
                esc(&value_in_unit(name, b.hi)),
                if current { "current" } else { "reference" },
                v * 100.0
            );
        }
    }
    let short = |v: f64| {
        if name.starts_with("DAYS_") || name.starts_with("AMT_") { thousands(v) } else { fmt_num(v) }
    };
    let _ = write!(
        svg,
        "<text x=\"{ml}\" y=\"{}\" font-size=\"10\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
        hgt - 12.0,
        esc(&short(bins[0].lo)),
        w - mr,
        hgt - 12.0,
        esc(&short(bins[bins.len() - 1].hi))
    );
    svg.push_str("</svg>");
    svg
}

/// The share axis's two labels: `max` (a share in [0, 1], as a percentage) at the top, 0 at the
/// bottom.
fn share_scale(svg: &mut String, max: f64, hgt: f64, ml: f64, mb: f64, mt: f64) {
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{:.0}%</text><text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">0</text>",
        ml - 4.0,
        mt + 8.0,
        max * 100.0,
        ml - 4.0,
        hgt - mb
    );
}

fn axes(svg: &mut String, w: f64, h: f64, ml: f64, mb: f64, mt: f64, mr: f64) {
    let _ = write!(
        svg,
        "<rect x=\"{ml}\" y=\"{mt}\" width=\"{}\" height=\"{}\" fill=\"#fbfcfd\" stroke=\"#d0d7de\"/>",
        w - ml - mr,
        h - mt - mb
    );
}

/// Grouped bars, reference and current share per bin; every `label_every`-th label shown.
fn bar_chart(
    labels: &[String],
    reference: &[f64],
    current: &[f64],
    w: usize,
    h: usize,
    label_every: usize,
) -> String {
    let (w, hgt) = (w as f64, h as f64);
    let rotate = labels.len() > 6 && label_every == 1;
    let (ml, mb, mt, mr) = (if rotate { 70.0 } else { 44.0 }, if rotate { 70.0 } else { 28.0 }, 8.0, 8.0);
    let max = reference.iter().chain(current).copied().fold(0.0f64, f64::max).max(1e-9);
    let n = labels.len().max(1) as f64;
    let slot = (w - ml - mr) / n;
    let bar = (slot * 0.4).max(1.0);
    let py = |v: f64| mt + (1.0 - v / max) * (hgt - mt - mb);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{hgt}\" viewBox=\"0 0 {w} {hgt}\" role=\"img\" aria-label=\"shares per bin\">"
    );
    axes(&mut svg, w, hgt, ml, mb, mt, mr);
    share_scale(&mut svg, max, hgt, ml, mb, mt);
    for (i, label) in labels.iter().enumerate() {
        let x = ml + i as f64 * slot + slot * 0.1;
        for (k, (vals, color)) in [(reference, REF_COLOR), (current, CUR_COLOR)].into_iter().enumerate() {
            let v = vals.get(i).copied().unwrap_or(0.0).max(0.0);
            let y = py(v);
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {:.2}%</title></rect>",
                x + k as f64 * bar,
                (hgt - mb - y).max(0.0),
                esc(label),
                v * 100.0
            );
        }
        if i % label_every == 0 {
            let cx = ml + i as f64 * slot + slot / 2.0;
            let short = shorten(label, 22);
            if rotate {
                let _ = write!(
                    svg,
                    "<text font-size=\"9\" text-anchor=\"end\" transform=\"translate({cx:.1},{:.1}) rotate(-40)\">{}</text>",
                    hgt - mb + 10.0,
                    esc(&short)
                );
            } else {
                let _ = write!(
                    svg,
                    "<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\">{}</text>",
                    hgt - mb + 12.0,
                    esc(&short)
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Refusal rate (and error rate) per period, with the reference refusal rate as a dashed line.
fn time_chart(s: &Summary) -> String {
    let periods = &s.score.over_time;
    let (w, hgt, ml, mb, mt, mr) = (520.0, 220.0, 44.0, 36.0, 8.0, 12.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{hgt}\" viewBox=\"0 0 {w} {hgt}\" role=\"img\" aria-label=\"refusal rate over time\">"
    );
    axes(&mut svg, w, hgt, ml, mb, mt, mr);
    if periods.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">no timestamps in the logs</text></svg>",
            w / 2.0,
            hgt / 2.0
        );
        return svg;
    }
    let rate = |num: u64, den: u64| if den == 0 { None } else { Some(num as f64 / den as f64) };
    let mut max: f64 = s.score.reference_refusal_rate.unwrap_or(0.0);
    for p in periods {
        let scored = p.counts.records - p.counts.errors;
        max = max
            .max(rate(p.counts.refused, scored).unwrap_or(0.0))
            .max(rate(p.counts.errors, p.counts.records).unwrap_or(0.0));
    }
    let max = (max * 1.1).clamp(0.05, 1.0);
    let n = periods.len() as f64;
    let px = |i: usize| ml + (i as f64 + 0.5) / n * (w - ml - mr);
    let py = |v: f64| mt + (1.0 - v / max) * (hgt - mt - mb);
    share_scale(&mut svg, max, hgt, ml, mb, mt);
    if let Some(r) = s.score.reference_refusal_rate {
        let _ = write!(
            svg,
            "<line x1=\"{ml}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{REF_COLOR}\" stroke-dasharray=\"5 4\" stroke-width=\"1.5\"/>",
            w - mr,
            y = py(r)
        );
    }
    for (color, errors) in [(CUR_COLOR, false), ("#cf222e", true)] {
        let mut d = String::new();
        for (i, p) in periods.iter().enumerate() {
            let scored = p.counts.records - p.counts.errors;
            let v =
                if errors { rate(p.counts.errors, p.counts.records) } else { rate(p.counts.refused, scored) };
            if let Some(v) = v {
                let _ = write!(d, "{}{:.1},{:.1} ", if d.is_empty() { "M" } else { "L" }, px(i), py(v));
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"><title>{} records</title></circle>",
                    px(i),
                    py(v),
                    p.counts.records
                );
            }
        }
        if !d.is_empty() {
            let _ = write!(svg, "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>");
        }
    }
    let first = super::format_ts(periods[0].start);
    let last = super::format_ts(periods[periods.len() - 1].start + periods[periods.len() - 1].seconds);
    let _ = write!(
        svg,
        "<text x=\"{ml}\" y=\"{}\" font-size=\"10\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
        hgt - 12.0,
        esc(&first),
        w - mr,
        hgt - 12.0,
        esc(&last)
    );
    svg.push_str("</svg>");
    svg
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{:.1} %", v * 100.0),
        _ => String::from("—"),
    }
}

fn num_or_dash(v: f64) -> String {
    if v.is_finite() { fmt_num(v) } else { String::from("—") }
}

/// Microseconds as milliseconds.
fn ms(micros: Option<f64>) -> String {
    match micros {
        Some(v) if v >= 100_000.0 => format!("{:.0}", v / 1000.0),
        Some(v) => format!("{:.2}", v / 1000.0),
        None => String::from("—"),
    }
}

/// A value of input `name` in its unit: money (AMT_*) with thousands separators, days (DAYS_*)
/// with their length in years, else the short number format.
pub fn value_in_unit(name: &str, v: f64) -> String {
    if !v.is_finite() {
        return String::from("—");
    }
    if name.starts_with("AMT_") {
        thousands(v)
    } else if name.starts_with("DAYS_") {
        format!("{} days ({:.1} years)", thousands(v), v.abs() / 365.25)
    } else {
        fmt_num(v)
    }
}

/// Rounded to a whole number with thousands separators ("1,234,567").
fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The main change in plain language: for a numeric input, the share of applicants at or below
/// the value where the two distributions differ most (the KS point); for a categorical one, the
/// level whose share changed most.
pub fn plain_reason(f: &FeatureDrift) -> Option<String> {
    match &f.comparison {
        Comparison::Numeric(c) => {
            let g = c.largest_gap?;
            Some(format!(
                "The share of applicants with {} at or below {} went from {:.0} % to {:.0} %.",
                f.name,
                value_in_unit(&f.name, g.x),
                g.reference_share * 100.0,
                g.current_share * 100.0
            ))
        }
        Comparison::Categorical(c) => {
            let b = c.bins.iter().max_by(|a, b| {
                (a.current_share - a.reference_share)
                    .abs()
                    .total_cmp(&(b.current_share - b.reference_share).abs())
            })?;
            Some(format!(
                "The share of applicants with {} = {} went from {:.0} % to {:.0} %.",
                f.name,
                b.label,
                b.reference_share * 100.0,
                b.current_share * 100.0
            ))
        }
    }
}

fn anchor(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
