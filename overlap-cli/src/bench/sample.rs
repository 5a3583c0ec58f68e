//! What one run of one cell measured: its figures, the first being the main one.

/// One figure of one measurement.
#[derive(Clone, Debug)]
pub(crate) struct Figure {
    pub(crate) name: &'static str,
    pub(crate) value: f64,
    /// Throughputs: more is better; costs and latencies: less is.
    pub(crate) higher_is_better: bool,
}

impl Figure {
    /// A throughput: more is better.
    pub(crate) fn higher(name: &'static str, value: f64) -> Figure {
        Figure { name, value, higher_is_better: true }
    }

    /// A cost or a latency: less is better.
    pub(crate) fn lower(name: &'static str, value: f64) -> Figure {
        Figure { name, value, higher_is_better: false }
    }
}

/// What one run of one cell measured; the first figure is the main one.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub(crate) figures: Vec<Figure>,
}
