//! `creditscore features`: the model feature matrix of raw rows, computed by the core exactly as
//! at serving time (the training pipeline trains on this output).
use std::io::Write;
use std::path::PathBuf;

use crate::error::CliError;
use crate::input::{
    AtomicOutput, CsvOut, UnknownColumns, Validation, for_each_record, load_schema, refuse_output_over_input,
};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    /// Schema JSON (the `schema` of a bundle spec), or a bundle file.
    #[arg(long)]
    schema: PathBuf,
    /// Raw rows: CSV with a header of field names (empty cell = missing), or JSONL.
    #[arg(long)]
    input: PathBuf,
    /// Output CSV: header = model features in model order; empty cell = missing; categories as
    /// level codes.
    #[arg(long)]
    out: PathBuf,
    /// Leave out input columns that are neither the id nor an input (e.g. TARGET) instead of
    /// stopping at them.
    #[arg(long)]
    ignore_unknown_columns: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    refuse_output_over_input(&args.input, &args.out)?;
    let schema = load_schema(&args.schema)?;
    let mut out = AtomicOutput::create(&args.out)?;
    let mut validation = Validation::new(&args.input);
    let mut progress = Progress::new("rows");
    let mut rows = 0u64;
    let unknown = if args.ignore_unknown_columns { UnknownColumns::Ignore } else { UnknownColumns::Refuse };
    let mut csv = CsvOut::new(&mut out.writer);
    let result = csv
        .row(schema.model_features.iter().map(String::as_str))
        .map_err(CliError::io(&args.out))
        .and_then(|()| {
            for_each_record(&args.input, |row, record| {
                rows = row;
                let record = unknown.apply(&schema, record);
                if let Some(valid) = validation.check(&schema, row, &record)
                    && validation.all_valid()
                {
                    write_row(&mut csv, &valid.features).map_err(CliError::io(&args.out))?;
                }
                progress.update(row, None);
                Ok(())
            })
        });
    let result = result.and_then(|()| csv.flush().map_err(CliError::io(&args.out)));
    drop(csv);
    let result = result.and_then(|()| validation.finish());
    if result.is_ok() {
        progress.finish(rows);
    }
    out.settle(result)
}

fn write_row(out: &mut CsvOut<impl Write>, values: &[f64]) -> std::io::Result<()> {
    for v in values {
        out.float(*v)?;
    }
    out.end_row()
}
