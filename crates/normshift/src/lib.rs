//! normshift: batch normalization with PyTorch's semantics, and covariate shift.
//!
//! - [`BatchNorm`]: a layer for any layout (channels-first or channels-last, rank ≥ 2) and
//!   `f32`, `f64`, `f16` or `bf16` data: training mode (batch statistics, running statistics updated),
//!   evaluation mode (running statistics), backward pass; separate switches for
//!   *normalize with batch statistics*, *update running statistics* and *freeze*.
//! - [`convention`]: translating settings to and from Keras, Flax and ONNX.
//! - [`walkthrough()`]: the four steps of batch normalization on a list of numbers.
//!
//! ```
//! use normshift::{BatchNorm, BatchNormConfig, Layout};
//!
//! let mut bn = BatchNorm::new(BatchNormConfig::new(1))?;
//! let out = bn.forward(&[1.0f64, 2.0, 3.0, 4.0, 5.0], &[5, 1], Layout::ChannelsFirst)?;
//! assert!((out.y[0] + 1.414).abs() < 1e-3);
//! // Running statistics moved 10% of the way to the batch's (unbiased variance 2.5).
//! let running = bn.running_stats().unwrap();
//! assert!((running.running_mean[0] - 0.3).abs() < 1e-12);
//! assert!((running.running_var[0] - 1.15).abs() < 1e-12);
//! # Ok::<(), normshift::Error>(())
//! ```
#![deny(missing_docs)]

mod batch_norm;
pub mod convention;
pub mod data;
pub mod demo;
pub mod drift;
mod error;
pub mod profile;
pub mod sketch;
pub mod standardize;
mod walkthrough;

pub use batch_norm::{
    BatchNorm, BatchNormConfig, Forward, Gradients, Mode, RunningStats, SavedStatistics,
    VarianceEstimator,
};
pub use error::{Error, Result};
pub use normshift_kernels::{Element, Execution, Layout, SimdLevel, StatisticsSource};
pub use walkthrough::{walkthrough, Walkthrough};

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
