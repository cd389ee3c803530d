//! `creditscore features`: the model feature matrix of raw rows, computed by the core exactly as
//! at serving time (the training pipeline trains on this output).
use std::io::Write;
use std::path::PathBuf;

use crate::error::CliError;
use crate::input::{AtomicOutput, Validation, for_each_record, load_schema, write_float};
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
}

pub fn run(args: Args) -> Result<(), CliError> {
    let schema = load_schema(&args.schema)?;
    let mut out = AtomicOutput::create(&args.out)?;
    let mut validation = Validation::new(&args.input);
    let mut progress = Progress::new("rows");
    let mut rows = 0u64;
    let header = schema.model_features.join(",");
    let result = writeln!(out.writer, "{header}").map_err(CliError::io(&args.out)).and_then(|()| {
        for_each_record(&args.input, |row, record| {
            rows = row;
            if let Some(valid) = validation.check(&schema, row, &record)
                && validation.all_valid()
            {
                write_row(&mut out.writer, &valid.features).map_err(CliError::io(&args.out))?;
            }
            progress.update(row, None);
            Ok(())
        })
    });
    match result.and_then(|()| validation.finish()) {
        Ok(()) => {
            progress.finish(rows);
            out.commit()
        }
        Err(e) => {
            out.abandon();
            Err(e)
        }
    }
}

fn write_row(out: &mut impl Write, values: &[f64]) -> std::io::Result<()> {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_float(out, *v)?;
    }
    writeln!(out)
}
