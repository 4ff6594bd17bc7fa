use crate::cli::{BenchArgs, SimdArg};
use crate::printer::{Printer, Report};
use normshift_bench::{Measurement, Options, ThresholdPoint};
use normshift_kernels::SimdLevel;
use serde::Serialize;
use std::fmt::Write;
use std::process::ExitCode;

pub fn run(args: BenchArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let simd = match args.simd {
        None => SimdLevel::detect(),
        Some(SimdArg::Scalar) => SimdLevel::Scalar,
        Some(SimdArg::Avx2) => SimdLevel::Avx2,
        Some(SimdArg::Avx512) => SimdLevel::Avx512,
    };
    if args.threshold {
        let points = normshift_bench::threshold_sweep(args.threads, args.reps, simd)?;
        printer.report(&Threshold(points))?;
        return Ok(ExitCode::SUCCESS);
    }
    let options = Options {
        cases: args.cases,
        threads: args.threads,
        reps: args.reps,
        simd,
        peer: !args.no_candle,
        huge_pages: args.huge_pages,
    };
    let rows = normshift_bench::run(&options, |m| {
        printer.note(&format!(
            "{} {} {} {}: {:.2} ms",
            m.case, m.layout, m.dtype, m.op, m.ms
        ))
    })?;
    printer.report(&Table(rows))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
#[serde(transparent)]
struct Table(Vec<Measurement>);

impl Report for Table {
    fn human(&self, out: &mut String) -> std::fmt::Result {
        let Some(first) = self.0.first() else {
            return Ok(());
        };
        writeln!(
            out,
            "{} threads, {} kernels; ratio = GB/s over a parallel copy of the same bytes (GB/s), timed alternately;\nspeed-up = candle-nn BatchNorm time on the same data in the same run over ours",
            first.threads, first.simd
        )?;
        writeln!(
            out,
            "{:<15} {:<14} {:<4} {:<17} {:>8} {:>6} {:>6} {:>6} {:>10} {:>8}",
            "case", "layout", "type", "op", "ms", "GB/s", "copy", "ratio", "candle ms", "speed-up"
        )?;
        for m in &self.0 {
            let (peer, speedup) = match (m.candle_ms, m.speedup) {
                (Some(p), Some(s)) => (format!("{p:.2}"), format!("{s:.1}x")),
                _ => ("-".to_string(), "-".to_string()),
            };
            writeln!(
                out,
                "{:<15} {:<14} {:<4} {:<17} {:>8.3} {:>6.1} {:>6.1} {:>5.0}% {:>10} {:>8}",
                m.case,
                m.layout,
                m.dtype,
                m.op,
                m.ms,
                m.gbps,
                m.copy_gbps,
                m.bandwidth_ratio * 100.0,
                peer,
                speedup
            )?;
        }
        let steps: Vec<_> = self.0.iter().filter(|m| m.floor_ms.is_some()).collect();
        if !steps.is_empty() {
            writeln!(
                out,
                "\ncandle_train_step: floor = the same step with a layer that does nothing (what candle's\nautograd costs any layer); cap = candle-nn / floor, the largest speed-up any layer could show"
            )?;
            writeln!(
                out,
                "{:<15} {:<14} {:<4} {:>8} {:>10} {:>8} {:>8} {:>6}",
                "case", "layout", "type", "ours ms", "candle ms", "floor ms", "speed-up", "cap"
            )?;
            for m in steps {
                let (Some(peer), Some(floor), Some(speedup), Some(cap)) =
                    (m.candle_ms, m.floor_ms, m.speedup, m.speedup_cap)
                else {
                    continue;
                };
                writeln!(
                    out,
                    "{:<15} {:<14} {:<4} {:>8.2} {:>10.2} {:>8.2} {:>7.1}x {:>5.1}x",
                    m.case, m.layout, m.dtype, m.ms, peer, floor, speedup, cap
                )?;
            }
        }
        Ok(())
    }
}

#[derive(Serialize)]
#[serde(transparent)]
struct Threshold(Vec<ThresholdPoint>);

impl Report for Threshold {
    fn human(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "forward_train, (N, 64) f32: one thread against all, median ms"
        )?;
        writeln!(
            out,
            "{:>10} {:>12} {:>12} {:>8}",
            "elements", "1 thread", "all", "speed-up"
        )?;
        for p in &self.0 {
            writeln!(
                out,
                "{:>10} {:>12.4} {:>12.4} {:>7.2}x",
                p.elements,
                p.sequential_ms,
                p.parallel_ms,
                p.sequential_ms / p.parallel_ms
            )?;
        }
        Ok(())
    }
}
