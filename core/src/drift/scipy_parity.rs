//! Parity with scipy 1.17 on the committed fixtures of tests/drift/gen_ks_fixtures.py: KS
//! statistic within 1e-9 and p-values within 1e-6 (absolute), through both the direct sample API
//! and the streaming accumulator; kstwo.sf, chisquare and Benjamini-Hochberg likewise.

extern crate std;
use std::println;
use std::vec::Vec;

use super::ks::{kolmogorov_n_sf, ks_2samp};
use super::numeric::{NumericAccumulator, NumericReference, compare_numeric};
use super::stats::{benjamini_hochberg, chi_square_gof};

const STAT_TOL: f64 = 1e-9;
const P_TOL: f64 = 1e-6;

fn fixtures() -> serde_json::Value {
    serde_json::from_str(&crate::test_support::repo_text("tests/drift/fixtures/scipy_drift.json"))
        .expect("fixture file is valid JSON")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

#[test]
fn ks_2samp_matches_scipy() {
    let fx = fixtures();
    let cases = fx["ks_2samp"].as_array().unwrap();
    assert!(cases.len() >= 16);
    let (mut worst_stat, mut worst_p) = (0.0f64, 0.0f64);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (a, b) = (floats(&case["a"]), floats(&case["b"]));
        let (stat, p) = (case["statistic"].as_f64().unwrap(), case["pvalue"].as_f64().unwrap());
        let direct = ks_2samp(&a, &b).unwrap();
        let method = std::format!("{:?}", direct.method).to_lowercase();
        assert_eq!(method, case["method"].as_str().unwrap(), "{name}: method");
        // Streaming: `a` is the reference sample, `b` flows through the accumulator.
        let reference = NumericReference::from_values(a.iter().copied());
        let mut acc = NumericAccumulator::new(&reference);
        b.iter().for_each(|&v| acc.push(v));
        let streamed = compare_numeric(&reference, &acc).ks.unwrap();
        for (how, r) in [("direct", direct), ("streamed", streamed)] {
            let (ds, dp) = ((r.statistic - stat).abs(), (r.pvalue - p).abs());
            println!(
                "{name:28} {how:8} D={:.12} p={:.6e} |dD|={ds:.1e} |dp|={dp:.1e}",
                r.statistic, r.pvalue
            );
            assert!(ds <= STAT_TOL, "{name} ({how}): statistic {} vs scipy {stat}", r.statistic);
            assert!(dp <= P_TOL, "{name} ({how}): p-value {} vs scipy {p}", r.pvalue);
            worst_stat = worst_stat.max(ds);
            worst_p = worst_p.max(dp);
        }
    }
    println!("ks_2samp parity: max |dD| = {worst_stat:.2e}, max |dp| = {worst_p:.2e}");
}

#[test]
fn kstwo_sf_matches_scipy_on_every_branch() {
    let fx = fixtures();
    let mut worst = 0.0f64;
    for point in fx["kstwo_sf"].as_array().unwrap() {
        let (n, x, sf) =
            (point["n"].as_f64().unwrap(), point["x"].as_f64().unwrap(), point["sf"].as_f64().unwrap());
        let got = kolmogorov_n_sf(n, x);
        let d = (got - sf).abs();
        worst = worst.max(d);
        assert!(d <= P_TOL, "kstwo.sf(x={x}, n={n}) = {got}, scipy {sf}");
    }
    println!("kstwo.sf parity: max |dp| = {worst:.2e}");
}

#[test]
fn chisquare_and_bh_match_scipy() {
    let fx = fixtures();
    for case in fx["chisquare"].as_array().unwrap() {
        let observed: Vec<u64> =
            case["observed"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let (stat, p, _) = chi_square_gof(&observed, &floats(&case["expected_share"])).unwrap();
        assert!((stat - case["statistic"].as_f64().unwrap()).abs() <= 1e-9 * stat.max(1.0), "{case}");
        assert!((p - case["pvalue"].as_f64().unwrap()).abs() <= P_TOL, "{case}: p {p}");
    }
    for case in fx["bh"].as_array().unwrap() {
        let got = benjamini_hochberg(&floats(&case["p"]));
        for (g, e) in got.iter().zip(floats(&case["adjusted"])) {
            assert!((g - e).abs() <= 1e-12, "BH {g} vs {e}");
        }
    }
}
