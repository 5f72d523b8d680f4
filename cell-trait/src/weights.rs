//! The standard weight set of a PyTorch recurrent cell.

use rand::Rng;

use crate::{CellError, GateParams, Init, Param, Params, Real};

const WEIGHT_IH: usize = 0;
const WEIGHT_HH: usize = 1;
const BIAS_IH: usize = 2;
const BIAS_HH: usize = 3;

/// The weights of a PyTorch recurrent cell with `G` gate blocks (`nn.RNN`: 1, `nn.GRU`: 3,
/// `nn.LSTM`: 4), in PyTorch's names, shapes and order:
///
/// | index | name | shape |
/// | --- | --- | --- |
/// | 0 | `weight_ih` | `(G*H, input)` |
/// | 1 | `weight_hh` | `(G*H, H)` |
/// | 2 | `bias_ih` | `(G*H)`, if the set has biases |
/// | 3 | `bias_hh` | `(G*H)`, if the set has biases |
///
/// Every parameter has `G` gate blocks ([`Param::gates`]), gate `g` being rows `g*H..(g+1)*H`, so
/// a PyTorch `state_dict` loads with no reshuffling. A gated cell holds one and hands it out
/// through [`GatedCell::weights`](crate::GatedCell::weights): its sizes, parameters and gate
/// layout all come from here. The indices of [`gate_params`](Self::gate_params) also address a
/// gradient store made by [`Params::zeros_like`].
///
/// ```
/// use rnnzoo_cell::{seeded, CellError, GateWeights};
///
/// // An LSTM's weights: G = 4, input 3, H = 5.
/// let mut w = GateWeights::<f64>::zeros(3, 5, 4, true)?;
/// assert_eq!(w.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
/// assert_eq!((w.weight_ih().shape(), w.weight_hh().shape()), (&[20, 3][..], &[20, 5][..]));
/// assert_eq!(w.bias_hh().map(|b| b.gates()), Some(4));
///
/// // PyTorch's default initialisation: every value in U(-1/sqrt(H), 1/sqrt(H)).
/// w.init_pytorch(&mut seeded(0));
/// let k = 1.0 / 5f64.sqrt();
/// assert!(w.params().iter().all(|p| p.data().iter().all(|x| x.abs() <= k)));
///
/// let gp = w.gate_params();
/// assert_eq!((gp.weight_ih, gp.weight_hh, gp.bias_ih, gp.bias_hh), (0, 1, Some(2), Some(3)));
/// let nobias = GateWeights::<f32>::zeros(3, 5, 4, false)?;
/// assert_eq!((nobias.params().len(), nobias.gate_params().bias_hh), (2, None));
///
/// assert_eq!(
///     GateWeights::<f32>::zeros(3, 0, 4, true),
///     Err(CellError::ZeroSize { what: "hidden_size" })
/// );
/// # Ok::<(), CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GateWeights<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    gates: usize,
    bias: bool,
}

impl<T: Real> GateWeights<T> {
    /// The weights for `gates` gate blocks of `hidden` units reading `input` values, all zero, to
    /// be filled by [`init_pytorch`](Self::init_pytorch), [`Params::set`] or an [`Init`]. Without
    /// `bias` (PyTorch's `bias=False`) there are only `weight_ih` and `weight_hh`.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input`, `hidden` or `gates` is zero (checked in that order;
    /// `what` is `"input_size"`, `"hidden_size"` or `"gates"`).
    pub fn zeros(input: usize, hidden: usize, gates: usize, bias: bool) -> Result<Self, CellError> {
        for (n, what) in [
            (input, "input_size"),
            (hidden, "hidden_size"),
            (gates, "gates"),
        ] {
            if n == 0 {
                return Err(CellError::ZeroSize { what });
            }
        }
        let rows = gates * hidden;
        let mut params = Params::new();
        params.push(Param::zeros("weight_ih", &[rows, input], gates)?)?;
        params.push(Param::zeros("weight_hh", &[rows, hidden], gates)?)?;
        if bias {
            params.push(Param::zeros("bias_ih", &[rows], gates)?)?;
            params.push(Param::zeros("bias_hh", &[rows], gates)?)?;
        }
        Ok(Self {
            params,
            input,
            hidden,
            gates,
            bias,
        })
    }

    /// PyTorch's default initialisation ([`Init::pytorch`]): every parameter
    /// `U(-1/sqrt(H), 1/sqrt(H))`, drawn from `rng` in parameter order.
    pub fn init_pytorch<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let init = Init::pytorch(self.hidden);
        for p in self.params.iter_mut() {
            init.apply(p, rng);
        }
    }

    /// Rows of `x_t`, the columns of `weight_ih`.
    pub fn input(&self) -> usize {
        self.input
    }

    /// `H`, the rows of each gate block.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// `G`, the number of gate blocks.
    pub fn gates(&self) -> usize {
        self.gates
    }

    /// Whether there are `bias_ih` and `bias_hh`.
    pub fn has_bias(&self) -> bool {
        self.bias
    }

    /// The parameters, in the order `weight_ih`, `weight_hh`[, `bias_ih`, `bias_hh`].
    pub fn params(&self) -> &Params<T> {
        &self.params
    }

    /// The parameters, for writing (optimizers, loading, initialisers).
    pub fn params_mut(&mut self) -> &mut Params<T> {
        &mut self.params
    }

    /// Where `weight_ih`, `weight_hh`, `bias_ih` and `bias_hh` are in [`params`](Self::params)
    /// (and in a gradient store laid out like it).
    pub fn gate_params(&self) -> GateParams {
        GateParams {
            weight_ih: WEIGHT_IH,
            weight_hh: WEIGHT_HH,
            bias_ih: self.bias.then_some(BIAS_IH),
            bias_hh: self.bias.then_some(BIAS_HH),
        }
    }

    /// `W_ih`, `(G*H, input)`.
    pub fn weight_ih(&self) -> &Param<T> {
        &self.params[WEIGHT_IH]
    }

    /// `W_hh`, `(G*H, H)`.
    pub fn weight_hh(&self) -> &Param<T> {
        &self.params[WEIGHT_HH]
    }

    /// `b_ih`, `(G*H)`, if there are biases.
    pub fn bias_ih(&self) -> Option<&Param<T>> {
        self.bias.then(|| &self.params[BIAS_IH])
    }

    /// `b_hh`, `(G*H)`, if there are biases.
    pub fn bias_hh(&self) -> Option<&Param<T>> {
        self.bias.then(|| &self.params[BIAS_HH])
    }

    /// Gate block `g`'s rows of every parameter, read-only; `None` if `g >= gates()`.
    ///
    /// ```
    /// use rnnzoo_cell::{CellError, GateWeights};
    ///
    /// // An LSTM's weights (gates i, f, g, o), input 2, H = 3.
    /// let mut w = GateWeights::<f32>::zeros(2, 3, 4, true)?;
    /// w.params_mut().at_mut(2).gate_mut(1).fill(1.0); // bias_ih of the forget gate
    /// let f = w.gate(1).unwrap();
    /// assert_eq!((f.weight_ih.len(), f.weight_hh.len()), (3 * 2, 3 * 3)); // H x input, H x H
    /// assert_eq!((f.bias_ih, f.bias_hh), (Some(&[1.0; 3][..]), Some(&[0.0; 3][..])));
    /// assert_eq!(w.gate(0).unwrap().bias_ih, Some(&[0.0; 3][..]));
    /// assert!(w.gate(4).is_none());
    /// # Ok::<(), CellError>(())
    /// ```
    pub fn gate(&self, g: usize) -> Option<GateView<'_, T>> {
        (g < self.gates).then(|| GateView {
            weight_ih: self.weight_ih().gate(g),
            weight_hh: self.weight_hh().gate(g),
            bias_ih: self.bias_ih().map(|b| b.gate(g)),
            bias_hh: self.bias_hh().map(|b| b.gate(g)),
        })
    }
}

/// One gate block of a [`GateWeights`] ([`GateWeights::gate`]): its rows of each parameter,
/// row-major as PyTorch stores them (`weight_ih[g*H:(g+1)*H]` in PyTorch's indexing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateView<'a, T> {
    /// The block's rows of `W_ih`, `H x input`.
    pub weight_ih: &'a [T],
    /// The block's rows of `W_hh`, `H x H`.
    pub weight_hh: &'a [T],
    /// The block of `b_ih` (`H`), if there are biases.
    pub bias_ih: Option<&'a [T]>,
    /// The block of `b_hh` (`H`), if there are biases.
    pub bias_hh: Option<&'a [T]>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded;

    #[test]
    fn zero_sizes_are_refused_in_order() {
        let zs = |what| Err(CellError::ZeroSize { what });
        assert_eq!(GateWeights::<f32>::zeros(0, 0, 0, true), zs("input_size"));
        assert_eq!(GateWeights::<f32>::zeros(1, 0, 0, true), zs("hidden_size"));
        assert_eq!(GateWeights::<f32>::zeros(1, 1, 0, false), zs("gates"));
    }

    #[test]
    fn accessors_agree_with_gate_params_and_init_draws_in_order() {
        for bias in [true, false] {
            let mut w = GateWeights::<f64>::zeros(2, 3, 3, bias).unwrap();
            w.init_pytorch(&mut seeded(1));
            let gp = w.gate_params();
            let p = w.params();
            assert_eq!(w.weight_ih(), &p[gp.weight_ih]);
            assert_eq!(w.weight_hh(), &p[gp.weight_hh]);
            assert_eq!(w.bias_ih(), gp.bias_ih.map(|k| &p[k]));
            assert_eq!(w.bias_hh(), gp.bias_hh.map(|k| &p[k]));
            assert_eq!(
                (w.input(), w.hidden(), w.gates(), w.has_bias()),
                (2, 3, 3, bias)
            );
            assert!(p.iter().all(|q| q.gates() == 3));
            // Gate views are the gate blocks of each parameter, in order.
            for g in 0..3 {
                let v = w.gate(g).unwrap();
                assert_eq!(v.weight_ih, &p[gp.weight_ih].data()[g * 6..][..6]);
                assert_eq!(v.weight_hh, &p[gp.weight_hh].data()[g * 9..][..9]);
                assert_eq!(v.bias_ih, gp.bias_ih.map(|k| &p[k].data()[g * 3..][..3]));
                assert_eq!(v.bias_hh, gp.bias_hh.map(|k| &p[k].data()[g * 3..][..3]));
            }
            assert_eq!(w.gate(3), None);
            // The same draws as applying Init::pytorch to each parameter in turn.
            let mut by_hand = p.zeros_like();
            let mut rng = seeded(1);
            for q in by_hand.iter_mut() {
                Init::pytorch(3).apply(q, &mut rng);
            }
            assert_eq!(&by_hand, p);
        }
    }
}
