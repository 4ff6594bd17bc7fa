//! Batch-normalization kernels over plain slices.
//!
//! Every tensor layout reduces to one canonical form, [`Dims`]: `outer × channels × inner`
//! in row-major order. Channels-first `(N, C, S…)` is `(N, C, ∏S)`; channels-last
//! `(N, S…, C)` is `(N·∏S, C, 1)`. Each kernel is written once against that form.
//!
//! Element data is `f32`, `f64`, `f16` or `bf16` (see [`Element`]); per-channel quantities (mean, variance,
//! inverse standard deviation, gamma, beta, their gradients) are always `f64`, and every
//! reduction accumulates in `f64`.
//!
//! Each operation has a public entry point (`moments`, `forward_train`, `forward_eval`,
//! `backward`), a `*_with` form taking an explicit [`Execution`] (threads, instruction set),
//! and a plain `*_reference` beside it that the fast ones are tested against. The forward
//! and backward passes also come as `*_vec_with`, which return the per-element output in a
//! new vector written once, without zero-filling it first ([`output_vec`]).
//!
//! ```
//! use normshift_kernels::{canonical_dims, forward_train, Layout};
//!
//! let x = [1.0f64, 2.0, 3.0, 4.0, 5.0];
//! let dims = canonical_dims(&[5, 1], Layout::ChannelsFirst).unwrap();
//! let (mut y, mut mean, mut var) = ([0.0; 5], [0.0; 1], [0.0; 1]);
//! forward_train(&x, dims, None, 1e-5, &mut y, &mut mean, &mut var).unwrap();
//! assert_eq!((mean[0], var[0]), (3.0, 2.0));
//! assert!((y[0] + 1.414).abs() < 1e-3);
//! ```
#![deny(missing_docs)]

mod backward;
mod element;
mod error;
mod exec;
mod forward;
mod layout;
mod moments;
mod sweep;
mod uninit;

pub use backward::{
    backward, backward_in_place_with, backward_reference, backward_vec_with, backward_with,
    Gradients, Saved, StatisticsSource,
};
pub use element::Element;
pub use error::KernelError;
pub use exec::{Execution, SimdLevel, DEFAULT_PARALLEL_MIN_LEN};
pub use forward::{
    forward_eval, forward_eval_reference, forward_eval_vec_with, forward_eval_with, forward_train,
    forward_train_reference, forward_train_vec_with, forward_train_with,
};
pub use layout::{canonical_dims, Dims, Layout};
pub use moments::{inverse_std, moments, moments_reference, moments_with};
pub use uninit::output_vec;

/// Learned per-channel scale and shift, `y = gamma * x̂ + beta`.
#[derive(Clone, Copy, Debug)]
pub struct Affine<'a> {
    /// Scale per channel.
    pub gamma: &'a [f64],
    /// Shift per channel.
    pub beta: &'a [f64],
}
