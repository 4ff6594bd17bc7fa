//! One test per finding of the `kernels` fuzz target (`fuzz/`, see the README): shapes and
//! lengths that once panicked must now be errors or no-ops.

use normshift_kernels::*;

#[test]
fn dims_built_directly_with_an_overflowing_count_are_refused_not_wrapped() {
    // Found: `Dims::len` multiplied without a check (a panic in debug builds, a wrapped and
    // therefore wrong length in release ones).
    let dims = Dims::new(usize::MAX, 2, 2);
    assert_eq!(dims.checked_len(), None);
    assert_eq!(dims.len(), usize::MAX, "saturates");
    assert_eq!(dims.per_channel(), usize::MAX, "saturates");
    assert!(!dims.is_empty());
    let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
    assert_eq!(
        moments(&[0.0f64; 4], dims, &mut m, &mut v),
        Err(KernelError::Overflow {
            shape: vec![usize::MAX, 2, 2]
        })
    );
    let mut y = [0.0f64; 4];
    assert!(matches!(
        forward_train(&[0.0f64; 4], dims, None, 1e-5, &mut y, &mut m, &mut v),
        Err(KernelError::Overflow { .. })
    ));
    assert!(matches!(
        forward_eval(&[0.0f64; 4], dims, &m, &v, None, 1e-5, &mut y),
        Err(KernelError::Overflow { .. })
    ));
    let (mut dx, mut dg, mut db) = ([0.0f64; 4], [0.0; 2], [0.0; 2]);
    let saved = Saved {
        mean: &m,
        invstd: &v,
        source: StatisticsSource::Batch,
    };
    let grads = Gradients {
        dx: &mut dx,
        dgamma: &mut dg,
        dbeta: &mut db,
    };
    assert!(matches!(
        backward(&[0.0f64; 4], &[0.0f64; 4], dims, saved, None, grads),
        Err(KernelError::Overflow { .. })
    ));
}

#[test]
fn empty_tensors_of_every_kind_return_without_panicking() {
    for dims in [
        Dims::new(0, 3, 4),
        Dims::new(3, 0, 4),
        Dims::new(3, 4, 0),
        Dims::new(0, 0, 0),
    ] {
        assert!(dims.is_empty());
        let c = dims.channels;
        let (mut m, mut v) = (vec![0.0; c], vec![0.0; c]);
        let x: [f64; 0] = [];
        let mut y: [f64; 0] = [];
        // Statistics of nothing are an error when there is a channel to compute them for.
        let stats = moments(&x, dims, &mut m, &mut v);
        let train = forward_train(&x, dims, None, 1e-5, &mut y, &mut m, &mut v);
        if dims.per_channel() == 0 {
            assert_eq!(stats, Err(KernelError::Empty), "{dims:?}");
            assert_eq!(train, Err(KernelError::Empty), "{dims:?}");
        } else {
            assert_eq!(stats, Ok(()), "{dims:?}: no channels, nothing to compute");
            assert_eq!(train, Ok(()), "{dims:?}");
        }
        assert_eq!(
            forward_eval(&x, dims, &m, &v, None, 1e-5, &mut y),
            Ok(()),
            "{dims:?}"
        );
        let mut dx: [f64; 0] = [];
        let (mut dg, mut db) = (vec![0.0; c], vec![0.0; c]);
        let saved = Saved {
            mean: &m,
            invstd: &v,
            source: StatisticsSource::Fixed,
        };
        let grads = Gradients {
            dx: &mut dx,
            dgamma: &mut dg,
            dbeta: &mut db,
        };
        // Backward of nothing: gradients of zero, or Empty; never a panic.
        let result = backward(&x, &[], dims, saved, None, grads);
        assert!(
            matches!(result, Ok(()) | Err(KernelError::Empty)),
            "{dims:?}: {result:?}"
        );
    }
}
