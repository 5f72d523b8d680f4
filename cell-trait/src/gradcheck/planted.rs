//! Planted errors: a computation whose analytic gradient is wrong by a known amount in one block,
//! to measure what the checker catches.

use std::ops::Range;

use super::{Differentiable, Layout};

/// One block of a computation's gradient: a gate's rows of a weight, a whole vector (a bias), or a
/// whole non-parameter group (the input, the initial state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Group index (in [`Differentiable::groups`] order).
    pub group: usize,
    /// The group's name.
    pub group_name: String,
    /// The block's name: `weight_hh gate 2`, `bias_ih`, `input`.
    pub name: String,
    /// The values of the group it covers.
    pub range: Range<usize>,
    /// The gate, for a gate block.
    pub gate: Option<usize>,
}

/// The gradient blocks of `f`: for each group laid out as a matrix with several gate blocks
/// ([`Layout::Param`] with more than one column and more than one gate), one block per gate; for
/// every other group, the whole group. Empty groups have no block.
///
/// ```
/// use rnnzoo_cell::gradcheck::{blocks, Differentiable, Layout};
///
/// // A (2*2, 3) weight of two gate blocks, and a bias.
/// struct Lin { w: Vec<f64>, b: Vec<f64> }
/// impl Differentiable for Lin {
///     fn groups(&self) -> Vec<String> { vec!["weight".into(), "bias".into()] }
///     fn values_mut(&mut self, g: usize) -> &mut [f64] { if g == 0 { &mut self.w } else { &mut self.b } }
///     fn loss(&mut self) -> f64 { self.w.iter().chain(&self.b).map(|v| v * v).sum() }
///     fn gradients(&mut self) -> Vec<Vec<f64>> {
///         vec![self.w.iter().map(|v| 2.0 * v).collect(), self.b.iter().map(|v| 2.0 * v).collect()]
///     }
///     fn layout(&self, g: usize) -> Layout {
///         let (rows, cols) = if g == 0 { (4, 3) } else { (4, 1) };
///         Layout::Param { rows, cols, gates: 2 }
///     }
/// }
/// let f = Lin { w: vec![0.5; 12], b: vec![1.0; 4] };
/// let b = blocks(&f);
/// let names: Vec<&str> = b.iter().map(|b| b.name.as_str()).collect();
/// assert_eq!(names, ["weight gate 0", "weight gate 1", "bias"]);
/// assert_eq!(b[1].range, 6..12);
/// ```
pub fn blocks<F: Differentiable + ?Sized>(f: &F) -> Vec<Block> {
    let mut out = Vec::new();
    for (group, name) in f.groups().into_iter().enumerate() {
        match f.layout(group) {
            Layout::Param { rows, cols, gates } if cols > 1 && gates > 1 && rows % gates == 0 => {
                let per = rows / gates * cols;
                for gate in 0..gates {
                    out.push(Block {
                        group,
                        group_name: name.clone(),
                        name: format!("{name} gate {gate}"),
                        range: gate * per..(gate + 1) * per,
                        gate: Some(gate),
                    });
                }
            }
            layout => {
                let n = layout_len(&layout);
                if n != Some(0) {
                    out.push(Block {
                        group,
                        group_name: name.clone(),
                        name: name.clone(),
                        range: 0..n.unwrap_or(usize::MAX),
                        gate: None,
                    });
                }
            }
        }
    }
    out
}

fn layout_len(layout: &Layout) -> Option<usize> {
    match *layout {
        Layout::Flat => None,
        Layout::Param { rows, cols, .. } => Some(rows * cols),
        Layout::Sequence {
            steps,
            batch,
            features,
        } => Some(steps * batch * features),
        Layout::State { batch, rows } => Some(batch * rows),
    }
}

/// `inner` with its analytic gradient multiplied by `1 + relative` in one [`Block`]: a planted
/// systematic error of relative size `relative`, everything else unchanged.
///
/// ```
/// use rnnzoo_cell::gradcheck::{blocks, check, Differentiable, Options, Planted};
///
/// // L(w) = sum_i sin(i + w_i).
/// struct Sines(Vec<f64>);
/// impl Differentiable for Sines {
///     fn groups(&self) -> Vec<String> { vec!["w".into()] }
///     fn values_mut(&mut self, _: usize) -> &mut [f64] { &mut self.0 }
///     fn loss(&mut self) -> f64 { self.0.iter().enumerate().map(|(i, w)| (i as f64 + w).sin()).sum() }
///     fn gradients(&mut self) -> Vec<Vec<f64>> {
///         vec![self.0.iter().enumerate().map(|(i, w)| (i as f64 + w).cos()).collect()]
///     }
/// }
/// let block = blocks(&Sines(vec![0.3; 5])).remove(0);
/// let mut planted = Planted::new(Sines(vec![0.3; 5]), block, 1e-6);
/// assert!(!check(&mut planted, &Options::default()).passed());
/// assert!(check(&mut planted, &Options::torch_gradcheck()).passed());
/// ```
pub struct Planted<F> {
    inner: F,
    block: Block,
    relative: f64,
}

impl<F: Differentiable> Planted<F> {
    /// `inner` with the gradient of `block` scaled by `1 + relative`.
    pub fn new(inner: F, block: Block, relative: f64) -> Self {
        Self {
            inner,
            block,
            relative,
        }
    }

    /// The block the error is planted in.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// The computation without the error.
    pub fn into_inner(self) -> F {
        self.inner
    }
}

impl<F: Differentiable> Differentiable for Planted<F> {
    fn groups(&self) -> Vec<String> {
        self.inner.groups()
    }

    fn values_mut(&mut self, group: usize) -> &mut [f64] {
        self.inner.values_mut(group)
    }

    fn loss(&mut self) -> f64 {
        self.inner.loss()
    }

    fn gradients(&mut self) -> Vec<Vec<f64>> {
        let mut g = self.inner.gradients();
        if let Some(v) = g.get_mut(self.block.group) {
            let end = self.block.range.end.min(v.len());
            let start = self.block.range.start.min(end);
            v[start..end]
                .iter_mut()
                .for_each(|x| *x *= 1.0 + self.relative);
        }
        g
    }

    fn layout(&self, group: usize) -> Layout {
        self.inner.layout(group)
    }

    fn loss_scale(&mut self) -> f64 {
        self.inner.loss_scale()
    }

    // A fork evaluates losses only, which the planted error does not touch.
    fn fork(&self) -> Option<Box<dyn Differentiable + Send + '_>> {
        self.inner.fork()
    }

    fn losses_at(&mut self, group: usize, at: &[(usize, f64)]) -> Vec<f64> {
        self.inner.losses_at(group, at)
    }
}
