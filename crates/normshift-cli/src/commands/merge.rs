use crate::cli::MergeArgs;
use crate::commands::fit::summarize;
use crate::input::{load_profile, write_atomically};
use crate::printer::Printer;
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: MergeArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let mut profiles = args.profiles.iter();
    let first = profiles.next().expect("clap requires two profiles");
    let mut merged = load_profile(first)?;
    for path in profiles {
        let next = load_profile(path)?;
        merged = merged
            .merge(&next)
            .map_err(|e| anyhow::anyhow!("cannot merge {}: {e}", path.display()))?;
    }
    let inputs: Vec<&Path> = args.profiles.iter().map(|p| p.as_path()).collect();
    write_atomically(&args.output, &inputs, &merged.to_json())?;
    printer.report(&summarize(&merged, &args.output.display().to_string()))?;
    Ok(ExitCode::SUCCESS)
}
