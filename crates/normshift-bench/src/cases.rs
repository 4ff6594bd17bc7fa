use normshift_kernels::Layout;

/// Element type of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

impl DType {
    /// `"f32"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }
}

/// A measured operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Training-mode forward: batch statistics, then normalize.
    ForwardTrain,
    /// Evaluation-mode forward with fixed statistics.
    ForwardEval,
    /// Backward with batch statistics: dx, dgamma, dbeta.
    Backward,
    /// A training step of the candle layer (normshift-candle): forward, then candle's
    /// autograd from `y`, with candle's tensor plumbing included.
    CandleTrainStep,
}

impl Op {
    /// Name used in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Op::ForwardTrain => "forward_train",
            Op::ForwardEval => "forward_eval",
            Op::Backward => "backward",
            Op::CandleTrainStep => "candle_train_step",
        }
    }
}

/// A tensor shape to benchmark.
#[derive(Clone, Debug)]
pub struct Case {
    /// Logical shape in channels-first order `(N, C, spatial…)`.
    pub shape: Vec<usize>,
    /// How it is stored.
    pub layout: Layout,
    /// Element type.
    pub dtype: DType,
}

impl Case {
    fn new(shape: &[usize], layout: Layout, dtype: DType) -> Self {
        Self {
            shape: shape.to_vec(),
            layout,
            dtype,
        }
    }

    /// The logical shape as `N x C x …`.
    pub fn name(&self) -> String {
        self.shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x")
    }

    /// `channels-first` or `channels-last`.
    pub fn layout_name(&self) -> &'static str {
        match self.layout {
            Layout::ChannelsFirst => "channels-first",
            Layout::ChannelsLast => "channels-last",
        }
    }

    /// Name, layout and type, as accepted by [`Case::matches`].
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}",
            self.name(),
            self.layout_name(),
            self.dtype.name()
        )
    }

    /// Whether a filter selects this case: a shape (`64x64x56x56`) selects every layout and
    /// type of it; each further `/layout` or `/dtype` part, in either order, narrows it down
    /// (`64x64x56x56/f64`, `64x64x56x56/channels-last/f32`).
    pub fn matches(&self, filter: &str) -> bool {
        let mut parts = filter.split('/');
        parts.next() == Some(self.name().as_str())
            && parts.all(|part| part == self.layout_name() || part == self.dtype.name())
    }

    /// The shape as stored: channels moved last for channels-last.
    pub fn storage_shape(&self) -> Vec<usize> {
        match self.layout {
            Layout::ChannelsFirst => self.shape.clone(),
            Layout::ChannelsLast => {
                let mut s = vec![self.shape[0]];
                s.extend_from_slice(&self.shape[2..]);
                s.push(self.shape[1]);
                s
            }
        }
    }
}

/// The cases of the fast-kernels issue: f32 unless noted.
pub fn default_cases() -> Vec<Case> {
    use DType::*;
    use Layout::*;
    vec![
        Case::new(&[65536, 64], ChannelsFirst, F32),
        Case::new(&[4096, 1024], ChannelsFirst, F32),
        Case::new(&[64, 64, 56, 56], ChannelsFirst, F32),
        Case::new(&[64, 64, 56, 56], ChannelsLast, F32),
        Case::new(&[256, 256, 14, 14], ChannelsFirst, F32),
        Case::new(&[32, 3, 224, 224], ChannelsFirst, F32),
        Case::new(&[32, 3, 224, 224], ChannelsLast, F32),
        Case::new(&[64, 64, 56, 56], ChannelsFirst, F64),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_narrow_by_layout_and_type_in_any_order() {
        let case = Case::new(&[64, 64, 56, 56], Layout::ChannelsLast, DType::F32);
        for yes in [
            "64x64x56x56",
            "64x64x56x56/channels-last",
            "64x64x56x56/f32",
            "64x64x56x56/channels-last/f32",
            "64x64x56x56/f32/channels-last",
        ] {
            assert!(case.matches(yes), "{yes}");
        }
        for no in [
            "64x64x56",
            "64x64x56x5",
            "64x64x56x56/channels-first",
            "64x64x56x56/f64",
            "64x64x56x56/channels-last/f64",
            "64x64x56x56/",
            "64x64x56x56/channels-last/f32/extra",
            "",
        ] {
            assert!(!case.matches(no), "{no}");
        }
    }
}
