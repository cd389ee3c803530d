//! The format-1 header: JSON (docs/BUNDLE_FORMAT.md), read for files written before format 2,
//! and given out as JSON to tools that read a bundle's header ([`super::Bundle::header_json`]).
//! Behind the `bundle-v1` feature: it brings serde_json's parser and the JSON readers of every
//! header type, which the npm package's wasm leaves out.

use alloc::format;
use alloc::string::String;
use serde::{Deserialize, Serialize};

use super::{BundleError, BundleSpec, TreeParams};
use crate::ensemble::{Arithmetic, Link};

/// The `model` object of a format-1 JSON header, read on its own: the spec is read directly as a
/// [`BundleSpec`] (which ignores `model`), because reading a `flatten`ed struct would buffer the
/// whole header first and compile every nested type's reader a second time.
#[derive(Deserialize)]
struct ModelSection {
    model: ModelParams,
}

#[derive(Serialize, Deserialize)]
struct ModelParams {
    num_features: usize,
    num_trees: u64,
    base_score: f64,
    arithmetic: ArithmeticName,
    link: LinkParams,
    zero_small_inputs: bool,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ArithmeticName {
    F64,
    F32,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(tag = "type", rename_all = "snake_case")]
enum LinkParams {
    Sigmoid { scale: f64 },
    Identity,
}

/// Decodes a format-1 JSON header. Errors: [`BundleError::Header`] with serde_json's message.
pub(super) fn read_header(json: &[u8]) -> Result<(BundleSpec, TreeParams), BundleError> {
    let header_error = |err: serde_json::Error| BundleError::Header(format!("{err}"));
    let spec: BundleSpec = serde_json::from_slice(json).map_err(header_error)?;
    let ModelSection { model } = serde_json::from_slice(json).map_err(header_error)?;
    let params = TreeParams {
        num_features: model.num_features,
        num_trees: model.num_trees,
        base_score: model.base_score,
        arithmetic: match model.arithmetic {
            ArithmeticName::F64 => Arithmetic::F64,
            ArithmeticName::F32 => Arithmetic::F32,
        },
        link: match model.link {
            LinkParams::Sigmoid { scale } => Link::Sigmoid { scale },
            LinkParams::Identity => Link::Identity,
        },
        zero_small_inputs: model.zero_small_inputs,
    };
    Ok((spec, params))
}

/// The JSON header in format 1's layout: the spec's keys at the top level beside `model`.
/// Errors: [`BundleError::Header`] with serde_json's message (a `training` text that is not JSON,
/// a non-finite number).
pub(super) fn write_header(spec: &BundleSpec, model: &TreeParams) -> Result<String, BundleError> {
    #[derive(Serialize)]
    struct Header<'a> {
        #[serde(flatten)]
        spec: &'a BundleSpec,
        model: ModelParams,
    }
    let model = ModelParams {
        num_features: model.num_features,
        num_trees: model.num_trees,
        base_score: model.base_score,
        arithmetic: match model.arithmetic {
            Arithmetic::F64 => ArithmeticName::F64,
            Arithmetic::F32 => ArithmeticName::F32,
        },
        link: match model.link {
            Link::Sigmoid { scale } => LinkParams::Sigmoid { scale },
            Link::Identity => LinkParams::Identity,
        },
        zero_small_inputs: model.zero_small_inputs,
    };
    serde_json::to_string(&Header { spec, model }).map_err(|e| BundleError::Header(format!("{e}")))
}
