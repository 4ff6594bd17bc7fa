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
        // Direct from f64: one rounding (via f32 would round twice).
        half::f16::from_f64(value)
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
        half::bf16::from_f64(value)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
}
