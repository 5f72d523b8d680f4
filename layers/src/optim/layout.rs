//! The layout an optimizer is bound to: every group's tensor names and shapes, from the first step.

use rnnzoo_cell::{Params, Real};
use serde::{Deserialize, Serialize};

use super::OptimError;

/// One tensor of a group: its name and shape, as [`rnnzoo_cell::Param`] has them.
///
/// An optimizer records the layout of the model at its first step, and
/// [`OptimizerState::layout`](super::OptimizerState::layout) carries it so that a loaded state can
/// only resume on the same model.
///
/// ```
/// use rnnzoo_layers::optim::TensorLayout;
/// let t = TensorLayout { name: "weight_ih".into(), shape: vec![4, 3] };
/// assert_eq!(t.num_values(), 12);
/// assert_eq!(t.to_string(), "weight_ih [4, 3]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TensorLayout {
    /// The parameter's name.
    pub name: String,
    /// The parameter's shape.
    pub shape: Vec<usize>,
}

impl TensorLayout {
    /// Number of values (the product of the shape).
    pub fn num_values(&self) -> usize {
        self.shape.iter().product()
    }
}

impl std::fmt::Display for TensorLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.name, self.shape)
    }
}

/// The layouts of all groups, in order. Optimizer buffers are stored one `Vec` per tensor in this
/// order (group 0's tensors, then group 1's, ...).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    groups: Vec<Vec<TensorLayout>>,
}

impl Layout {
    /// The layout of `params`.
    pub(crate) fn of<T: Real>(params: &[&mut Params<T>]) -> Self {
        let groups = params
            .iter()
            .map(|g| {
                g.iter()
                    .map(|p| TensorLayout {
                        name: p.name().to_string(),
                        shape: p.shape().to_vec(),
                    })
                    .collect()
            })
            .collect();
        Self { groups }
    }

    /// A layout from its groups.
    pub(crate) fn from_groups(groups: Vec<Vec<TensorLayout>>) -> Self {
        Self { groups }
    }

    /// The groups.
    pub(crate) fn groups(&self) -> &[Vec<TensorLayout>] {
        &self.groups
    }

    /// Every tensor, in buffer order.
    pub(crate) fn tensors(&self) -> impl Iterator<Item = &TensorLayout> {
        self.groups.iter().flatten()
    }

    /// Number of tensors over all groups.
    pub(crate) fn num_tensors(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    /// One zero `Vec` per tensor.
    pub(crate) fn zeros<T: Real>(&self) -> Vec<Vec<T>> {
        self.tensors()
            .map(|t| vec![T::zero(); t.num_values()])
            .collect()
    }

    /// A readable description, for errors.
    pub(crate) fn describe(&self) -> String {
        let groups: Vec<String> = self.groups.iter().map(|g| describe_group(g)).collect();
        format!("[{}]", groups.join(", "))
    }
}

/// Whether `p` has the names and shapes of `want`, in order.
fn matches<T: Real>(want: &[TensorLayout], p: &Params<T>) -> bool {
    want.len() == p.len()
        && want
            .iter()
            .zip(p.iter())
            .all(|(w, q)| w.name == q.name() && w.shape == q.shape())
}

fn describe_group(g: &[TensorLayout]) -> String {
    let items: Vec<String> = g.iter().map(ToString::to_string).collect();
    format!("({})", items.join(", "))
}

fn describe_params<T: Real>(p: &Params<T>) -> String {
    let items: Vec<String> = p
        .iter()
        .map(|q| format!("{} {:?}", q.name(), q.shape()))
        .collect();
    format!("({})", items.join(", "))
}

/// Checks a step's arguments: as many gradient groups as parameter groups, each gradient group laid
/// out as its parameter group, and, once bound, every group laid out as at the first step.
///
/// Allocates nothing unless it fails.
pub(crate) fn check_step<T: Real>(
    bound: Option<&Layout>,
    params: &[&mut Params<T>],
    grads: &[&Params<T>],
) -> Result<(), OptimError> {
    if let Some(l) = bound
        && params.len() != l.groups.len()
    {
        return Err(OptimError::GroupCount {
            what: "params",
            expected: l.groups.len(),
            got: params.len(),
        });
    }
    if grads.len() != params.len() {
        return Err(OptimError::GroupCount {
            what: "grads",
            expected: params.len(),
            got: grads.len(),
        });
    }
    for (k, (p, g)) in params.iter().zip(grads).enumerate() {
        match bound {
            Some(l) => {
                let want = &l.groups[k];
                if !matches(want, p) {
                    return Err(OptimError::Layout {
                        what: "params",
                        group: k,
                        expected: describe_group(want),
                        got: describe_params(p),
                    });
                }
                if !matches(want, g) {
                    return Err(OptimError::Layout {
                        what: "grads",
                        group: k,
                        expected: describe_group(want),
                        got: describe_params(g),
                    });
                }
            }
            None => {
                if !g.same_layout(p) {
                    return Err(OptimError::Layout {
                        what: "grads",
                        group: k,
                        expected: describe_params(p),
                        got: describe_params(g),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Binds `slot` to the layout of `params` if it is not bound yet; returns the layout.
pub(crate) fn bind<'a, T: Real>(
    slot: &'a mut Option<Layout>,
    params: &[&mut Params<T>],
) -> &'a Layout {
    slot.get_or_insert_with(|| Layout::of(params))
}

/// The element-wise loop every optimizer runs: calls `f(tensor_index, param, grad)` for each tensor
/// of each group, in buffer order.
pub(crate) fn for_each_tensor<T: Real>(
    params: &mut [&mut Params<T>],
    grads: &[&Params<T>],
    mut f: impl FnMut(usize, &mut [T], &[T]),
) {
    let mut t = 0;
    for (pg, gg) in params.iter_mut().zip(grads) {
        for (p, g) in pg.iter_mut().zip(gg.iter()) {
            f(t, p.data_mut(), g.data());
            t += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rnnzoo_cell::Param;

    fn group(names: &[(&str, &[usize])]) -> Params<f64> {
        let mut p = Params::new();
        for (n, s) in names {
            p.push(Param::zeros(n, s, 1).unwrap()).unwrap();
        }
        p
    }

    #[test]
    fn records_and_describes_the_layout() {
        let mut a = group(&[("weight", &[2, 3]), ("bias", &[2])]);
        let mut b = group(&[("head", &[3])]);
        let l = Layout::of(&[&mut a, &mut b]);
        assert_eq!(l.num_tensors(), 3);
        assert_eq!(l.describe(), "[(weight [2, 3], bias [2]), (head [3])]");
        let sizes: Vec<usize> = l.zeros::<f32>().iter().map(Vec::len).collect();
        assert_eq!(sizes, [6, 2, 3]);
        let (ga, gb) = (a.zeros_like(), b.zeros_like());
        assert_eq!(check_step(Some(&l), &[&mut a, &mut b], &[&ga, &gb]), Ok(()));
        let err = check_step(Some(&l), &[&mut b, &mut a], &[&gb, &ga]).unwrap_err();
        assert_eq!(
            err,
            OptimError::Layout {
                what: "params",
                group: 0,
                expected: "(weight [2, 3], bias [2])".into(),
                got: "(head [3])".into(),
            }
        );
    }
}
