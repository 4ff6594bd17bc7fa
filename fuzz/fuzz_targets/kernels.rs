//! Any shape, layout and buffer lengths: the kernels return a result or an error, never panic
//! (no overflow in element counts, no out-of-bounds on empty or mismatched buffers). The
//! allocating forms (`*_vec_with`, which write into memory that is not zero-filled, here split
//! into tasks on the thread pool) must succeed or fail with the buffer forms and agree with
//! them bit for bit: an element they forgot to write would likely show up as the allocator's
//! leftovers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use normshift_kernels::{
    backward, backward_vec_with, canonical_dims, forward_eval, forward_eval_vec_with,
    forward_train, forward_train_vec_with, moments, Dims, Execution, Gradients, Layout, Saved,
    StatisticsSource,
};

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Elements allocated at most, so huge shapes are tried for their arithmetic only.
const MAX_ELEMENTS: usize = 1 << 12;

fn take_usize(data: &mut &[u8]) -> usize {
    let mut bytes = [0u8; 8];
    let n = data.len().min(8);
    bytes[..n].copy_from_slice(&data[..n]);
    *data = &data[n..];
    usize::from_le_bytes(bytes)
}

fuzz_target!(|input: &[u8]| {
    let mut data = input;
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    data = rest;
    let rank = usize::from(head & 0x07);
    let layout = if head & 0x08 != 0 {
        Layout::ChannelsLast
    } else {
        Layout::ChannelsFirst
    };
    // Small dimensions most of the time, arbitrary ones (overflow) sometimes.
    let small = head & 0x10 == 0;
    let shape: Vec<usize> = (0..rank)
        .map(|_| {
            let d = take_usize(&mut data);
            if small {
                d % 7
            } else {
                d
            }
        })
        .collect();
    // Also build dims directly, bypassing the checks of `canonical_dims`.
    let raw = Dims::new(
        shape.first().copied().unwrap_or(0),
        shape.get(1).copied().unwrap_or(0),
        shape.get(2).copied().unwrap_or(1),
    );
    let _ = raw.len();
    let _ = raw.per_channel();
    let _ = raw.is_empty();
    let dims = match canonical_dims(&shape, layout) {
        Ok(d) => d,
        Err(_) => raw,
    };
    // Buffers of the right length when affordable, otherwise of a wrong one: both must be safe.
    let len = if dims.len() <= MAX_ELEMENTS {
        dims.len()
    } else {
        data.len() % 64
    };
    let extra = usize::from(head >> 5) % 3; // 0, 1 or 2 elements too many, sometimes
    let len = if head & 0x80 != 0 { len + extra } else { len };
    let channels = if dims.channels <= MAX_ELEMENTS {
        dims.channels
    } else {
        1
    };
    let x: Vec<f64> = (0..len)
        .map(|i| {
            let b = data.get(i % data.len().max(1)).copied().unwrap_or(0);
            f64::from(b as i8) / 7.0
        })
        .collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (mut mean, mut var) = (vec![0.0; channels], vec![0.0; channels]);
    let _ = moments(&x, dims, &mut mean, &mut var);
    let _ = moments(&x32, dims, &mut mean, &mut var);
    // The allocating forms split every call into tasks on the global pool (the buffer forms
    // run these small tensors on one thread): the bits must not depend on it.
    let exec = Execution {
        parallel_min_len: 0,
        ..Execution::default()
    };
    let mut y = vec![0.0; len];
    let (mut mean2, mut var2) = (mean.clone(), var.clone());
    let train = forward_train(&x, dims, None, 1e-5, &mut y, &mut mean, &mut var);
    let train_vec = forward_train_vec_with(&exec, &x, dims, None, 1e-5, &mut mean2, &mut var2);
    if let (Ok(()), Ok(y2)) = (&train, &train_vec) {
        assert!(same_bits(&y, y2) && same_bits(&mean, &mean2) && same_bits(&var, &var2));
    }
    assert_eq!(train.is_ok(), train_vec.is_ok());
    let eval = forward_eval(&x, dims, &mean, &var, None, 1e-5, &mut y);
    let eval_vec = forward_eval_vec_with(&exec, &x, dims, &mean, &var, None, 1e-5);
    if let (Ok(()), Ok(y2)) = (&eval, &eval_vec) {
        assert!(same_bits(&y, y2));
    }
    assert_eq!(eval.is_ok(), eval_vec.is_ok());
    let invstd: Vec<f64> = var.iter().map(|v| 1.0 / (v + 1e-5).sqrt()).collect();
    let mut dx = vec![0.0; len];
    let (mut dgamma, mut dbeta) = (vec![0.0; channels], vec![0.0; channels]);
    let source = if head & 0x20 != 0 {
        StatisticsSource::Batch
    } else {
        StatisticsSource::Fixed
    };
    let saved = Saved {
        mean: &mean,
        invstd: &invstd,
        source,
    };
    let grads = Gradients {
        dx: &mut dx,
        dgamma: &mut dgamma,
        dbeta: &mut dbeta,
    };
    let back = backward(&x, &y, dims, saved, None, grads);
    let (mut dgamma2, mut dbeta2) = (vec![0.0; channels], vec![0.0; channels]);
    let back_vec = backward_vec_with(&exec, &x, &y, dims, saved, None, &mut dgamma2, &mut dbeta2);
    if let (Ok(()), Ok(dx2)) = (&back, &back_vec) {
        assert!(same_bits(&dx, dx2) && same_bits(&dgamma, &dgamma2) && same_bits(&dbeta, &dbeta2));
    }
    assert_eq!(back.is_ok(), back_vec.is_ok());
});
