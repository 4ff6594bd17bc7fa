/// A floating-point element type the kernels read and write.
///
/// Sealed: implemented for `f32` and `f64`. Conversions go through `f64`, which represents
/// every `f32` exactly, so widening never loses information.
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

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}
