/// A floating-point element type the kernels read and write.
///
/// Sealed: implemented for `f32`, `f64`, and the half-precision [`half::f16`] and
/// [`half::bf16`] of mixed-precision training. Conversions go through `f64`, which represents
/// every value of each exactly, so widening never loses information; statistics and
/// parameters are always `f64` (wider than the `f32` that mixed-precision training keeps).
pub trait Element:
    Copy + Send + Sync + PartialEq + std::fmt::Debug + 'static + sealed::Sealed
{
    /// Short type name (`"f32"`, `"f64"`), for messages and reports.
    const NAME: &'static str;
    /// Widen to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Narrow from `f64`, rounding to nearest.
    fn from_f64(value: f64) -> Self;
}

impl Element for f32 {
    const NAME: &'static str = "f32";
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline]
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

impl Element for f64 {
    const NAME: &'static str = "f64";
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn from_f64(value: f64) -> Self {
        value
    }
}

impl Element for half::f16 {
    const NAME: &'static str = "f16";
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self.to_f32())
    }
    #[inline]
    fn from_f64(value: f64) -> Self {
        // `half::f16::from_f64` is not correctly rounded (with F16C it goes through a
        // rounded f32; without, it drops mantissa bits): 1 + 2^-11 + 2^-40 came out as 1.
        half::f16::from_f32(f32_round_to_odd(value))
    }
}

impl Element for half::bf16 {
    const NAME: &'static str = "bf16";
    #[inline]
    fn to_f64(self) -> f64 {
        // bf16 is the top half of an f32: widening is a shift.
        f64::from(f32::from_bits(u32::from(self.to_bits()) << 16))
    }
    #[inline]
    fn from_f64(value: f64) -> Self {
        // `half::bf16::from_f64` drops the low mantissa bits before rounding.
        half::bf16::from_f32(f32_round_to_odd(value))
    }
}

/// `value` rounded to `f32` *to odd*: exact values stay, any other goes to whichever of its two
/// `f32` neighbours has an odd last bit. Rounding that result once more, to nearest, into a
/// format with at least two bits less precision (`f16`: 11 bits, `bf16`: 8, against `f32`'s
/// 24, also among subnormals) gives the correctly rounded value of `value` itself (Boldo &
/// Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using rounding
/// to odd", 2008); rounding to nearest twice would not (the second rounding can see a tie the
/// first one made).
#[inline]
fn f32_round_to_odd(value: f64) -> f32 {
    let nearest = value as f32;
    if f64::from(nearest) == value || value.is_nan() || nearest.to_bits() & 1 == 1 {
        return nearest;
    }
    // Past f32::MAX, `nearest` is infinite and its neighbour toward `value` is ±f32::MAX
    // (odd), which still rounds to infinity in the narrower formats.
    if f64::from(nearest) > value {
        nearest.next_down()
    } else {
        nearest.next_up()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
}

#[cfg(test)]
mod tests {
    use super::Element;
    use half::{bf16, f16};

    /// The value of `T` nearest to `x`, ties to the even bit pattern, found by search over
    /// every finite non-negative value of `T` (`bits` counts up from +0 and ends at the
    /// largest finite value; one more step of the same spacing stands for infinity, as
    /// IEEE 754 rounds as if the exponent range were unbounded).
    fn nearest_by_search(x: f64, values: &[f64], max_bits: u16) -> (bool, u16) {
        let a = x.abs();
        let top = values[values.len() - 1];
        let beyond = top + (top - values[values.len() - 2]);
        let i = values.partition_point(|&v| v <= a);
        let (lo, lo_bits, hi, hi_bits) = if i == values.len() {
            (top, max_bits, beyond, max_bits + 1)
        } else {
            (values[i - 1], (i - 1) as u16, values[i], i as u16)
        };
        // Differences of values this close are exact in f64.
        let (dl, dh) = (a - lo, hi - a);
        let bits = if dl < dh || (dl == dh && lo_bits % 2 == 0) {
            lo_bits
        } else {
            hi_bits
        };
        (x.is_sign_negative(), bits)
    }

    fn check<T: Element>(label: &str, to_bits: impl Fn(T) -> u16, max_bits: u16) {
        let values: Vec<f64> = (0..=max_bits).map(|b| to_f64_of::<T>(b)).collect();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let mut checked = 0;
        for _ in 0..20_000 {
            let r = next();
            let b = (r % u64::from(max_bits)) as usize;
            let (lo, hi) = (values[b], values[b + 1]);
            let mid = (lo + hi) / 2.0; // exact: one more bit than T has
            let sign = if r >> 63 == 1 { -1.0 } else { 1.0 };
            let tiny = mid * 2f64.powi(-40);
            for x in [
                mid,
                mid + tiny,
                mid - tiny,
                mid.next_up(),
                mid.next_down(),
                lo + (hi - lo) * ((r >> 11) as f64 / (1u64 << 53) as f64),
            ] {
                let x = sign * x;
                let (negative, bits) = nearest_by_search(x, &values, max_bits);
                let got = to_bits(T::from_f64(x));
                let want = bits | if negative { 0x8000 } else { 0 };
                assert_eq!(got, want, "{label}: {x:e} ({:#018x})", x.to_bits());
                checked += 1;
            }
        }
        assert!(checked > 100_000);
    }

    fn to_f64_of<T: Element>(bits: u16) -> f64 {
        match T::NAME {
            "f16" => f16::from_bits(bits).to_f64(),
            _ => Element::to_f64(bf16::from_bits(bits)),
        }
    }

    #[test]
    fn f16_is_rounded_once_to_nearest() {
        check::<f16>("f16", f16::to_bits, 0x7bff);
        // The review's case: 1 + 2^-11 (the tie) + 2^-40 is above the tie.
        let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
        assert_eq!(<f16 as Element>::from_f64(x).to_f64(), 1.0009765625);
    }

    #[test]
    fn bf16_is_rounded_once_to_nearest() {
        check::<bf16>("bf16", bf16::to_bits, 0x7f7f);
        let x = 1.0 + 2f64.powi(-8) + 2f64.powi(-40);
        assert_eq!(Element::to_f64(<bf16 as Element>::from_f64(x)), 1.0078125);
    }

    #[test]
    fn special_values_convert_as_before() {
        for x in [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            -1e300,
            f64::MAX,
            4e38,
            3.3961e38,
            65520.0,
            65519.99,
            1e-300,
            -1e-300,
            5e-324,
            2f64.powi(-25),
            2f64.powi(-25) * (1.0 + 2f64.powi(-30)),
            2f64.powi(-134),
            2f64.powi(-134) * (1.0 + 2f64.powi(-30)),
        ] {
            let h = <f16 as Element>::from_f64(x);
            let b = <bf16 as Element>::from_f64(x);
            let (hs, hb) = nearest_by_search(
                x,
                &(0..=0x7bffu16).map(to_f64_of::<f16>).collect::<Vec<_>>(),
                0x7bff,
            );
            let (bs, bb) = nearest_by_search(
                x,
                &(0..=0x7f7fu16).map(to_f64_of::<bf16>).collect::<Vec<_>>(),
                0x7f7f,
            );
            assert_eq!(h.to_bits(), hb | if hs { 0x8000 } else { 0 }, "f16 {x:e}");
            assert_eq!(b.to_bits(), bb | if bs { 0x8000 } else { 0 }, "bf16 {x:e}");
        }
        assert!(<f16 as Element>::from_f64(f64::NAN).is_nan());
        assert!(<bf16 as Element>::from_f64(f64::NAN).is_nan());
    }
}
