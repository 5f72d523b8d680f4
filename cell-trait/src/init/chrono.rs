//! Chrono initialisation of a gated cell's biases (Tallec & Ollivier, "Can recurrent neural
//! networks warp time?", ICLR 2018, Section 4):
//!
//! ```text
//! b_f ~ log(U[1, T_max - 1])      b_i = -b_f
//! ```
//!
//! with `T_max` the longest range of the dependencies the network should capture. The gate that
//! keeps the previous state then starts at `sigmoid(b_f) = T/(1 + T)` for a time constant `T`
//! uniform in `[1, T_max - 1]`: a memory of `T` steps.
//!
//! - LSTM (PyTorch's gates `i, f, g, o`): `f` is the gate that keeps `c_{t-1}`, and the input
//!   gate `i` gets `-b_f` ([`ChronoGates::LSTM`]).
//! - GRU (PyTorch's `r, z, n`, `h_t = (1 - z) n + z h_{t-1}`): `z` keeps `h_{t-1}` and `1 - z`
//!   is tied to it, so `z` alone gets `b_z ~ log(U[1, T_max - 1])` ([`ChronoGates::GRU`]).
//!
//! PyTorch's cells have two biases whose sum is the gate's bias: the drawn value goes to the
//! gate's block of `bias_ih` and the block of `bias_hh` is set to zero, so the effective bias is
//! exactly the drawn one. Every other bias keeps its value.

use rand::Rng;

use super::recurrent::param_mut;
use crate::{CellError, Params, Real};

/// Which gate blocks chrono initialisation sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChronoGates {
    /// The gate that keeps the previous state: its bias is `log(U[1, T_max - 1])`.
    pub keep: usize,
    /// The gate that gets the negated bias, if any.
    pub negated: Option<usize>,
}

impl ChronoGates {
    /// PyTorch's LSTM, gates `i, f, g, o`: `b_f ~ log(U[1, T_max - 1])`, `b_i = -b_f`.
    pub const LSTM: Self = Self {
        keep: 1,
        negated: Some(0),
    };
    /// PyTorch's GRU, gates `r, z, n`: `b_z ~ log(U[1, T_max - 1])`.
    pub const GRU: Self = Self {
        keep: 1,
        negated: None,
    };
}

/// Sets the biases of `gates` by chrono initialisation with range `t_max` (see the module
/// docs), one draw from `rng` per unit.
///
/// ```
/// use rnnzoo_cell::{chrono, seeded, ChronoGates, GateWeights};
/// let mut w = GateWeights::<f64>::zeros(3, 8, 4, true)?; // an LSTM's
/// w.init_pytorch(&mut seeded(0));
/// chrono(w.params_mut(), ChronoGates::LSTM, 100.0, &mut seeded(1))?;
/// let (i, f) = (w.gate(0).unwrap(), w.gate(1).unwrap());
/// for j in 0..8 {
///     let b_f = f.bias_ih.unwrap()[j];
///     assert!((0.0..99f64.ln()).contains(&b_f));
///     assert_eq!(i.bias_ih.unwrap()[j], -b_f);
///     assert_eq!((f.bias_hh.unwrap()[j], i.bias_hh.unwrap()[j]), (0.0, 0.0));
/// }
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
///
/// # Errors
///
/// [`CellError::BadInit`] if `t_max` is not a finite number of at least 2 (`U[1, T_max - 1]`
/// is empty below), [`CellError::UnknownParam`] if there is no `bias_ih`,
/// [`CellError::BadParam`] if a gate of `gates` is not a gate block of the biases. Nothing is
/// written then.
pub fn chrono<T: Real, R: Rng + ?Sized>(
    params: &mut Params<T>,
    gates: ChronoGates,
    t_max: f64,
    rng: &mut R,
) -> Result<(), CellError> {
    if !(t_max.is_finite() && t_max >= 2.0) {
        return Err(CellError::BadInit {
            init: "chrono",
            reason: format!("T_max must be a finite number of at least 2, got {t_max}"),
        });
    }
    let b_ih = param_mut(params, "bias_ih")?;
    let n = b_ih.gates();
    for g in std::iter::once(gates.keep).chain(gates.negated) {
        if g >= n {
            return Err(CellError::BadParam {
                name: "bias_ih".into(),
                reason: format!("chrono sets gate block {g}, but it has {n} gate blocks"),
            });
        }
    }
    let h = b_ih.gate_rows();
    let drawn: Vec<f64> = (0..h)
        .map(|_| (1.0 + (t_max - 2.0) * rng.random::<f64>()).ln())
        .collect();
    let set = |block: &mut [T], sign: f64| {
        for (b, d) in block.iter_mut().zip(&drawn) {
            *b = T::from_f64_lossy(sign * d);
        }
    };
    set(b_ih.gate_mut(gates.keep), 1.0);
    if let Some(g) = gates.negated {
        set(b_ih.gate_mut(g), -1.0);
    }
    if let Some(b_hh) = params.get_mut("bias_hh") {
        for g in std::iter::once(gates.keep).chain(gates.negated) {
            b_hh.gate_mut(g).fill(T::zero());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GateWeights, Param, seeded};

    #[test]
    fn lstm_forget_and_input_biases_are_log_uniform_and_opposite() {
        let t_max = 50.0;
        let mut w = GateWeights::<f64>::zeros(2, 400, 4, true).unwrap();
        w.init_pytorch(&mut seeded(1));
        let before = w.clone();
        chrono(w.params_mut(), ChronoGates::LSTM, t_max, &mut seeded(2)).unwrap();
        let (i, f) = (w.gate(0).unwrap(), w.gate(1).unwrap());
        let b_f = f.bias_ih.unwrap();
        assert!(b_f.iter().all(|&b| (0.0..(t_max - 1.0).ln()).contains(&b)));
        // Spread over the whole range: exp(b_f) is uniform on [1, T_max - 1].
        let mean = b_f.iter().map(|b| b.exp()).sum::<f64>() / 400.0;
        assert!((mean - t_max / 2.0).abs() < 2.0, "{mean}");
        assert!(b_f.iter().any(|b| b.exp() > t_max - 2.0) && b_f.iter().any(|b| b.exp() < 2.0));
        for (&b_i, &b_f) in i.bias_ih.unwrap().iter().zip(b_f) {
            assert_eq!(b_i, -b_f);
        }
        let zeros = |b: Option<&[f64]>| b.unwrap().iter().all(|&v| v == 0.0);
        assert!(zeros(f.bias_hh) && zeros(i.bias_hh));
        // The g and o gates, and the weights, are untouched.
        for g in [2, 3] {
            assert_eq!(w.gate(g), before.gate(g));
        }
        assert_eq!(w.weight_hh(), before.weight_hh());
    }

    #[test]
    fn gru_sets_the_update_gate_only() {
        let mut w = GateWeights::<f32>::zeros(2, 6, 3, true).unwrap();
        w.init_pytorch(&mut seeded(1));
        let before = w.clone();
        chrono(w.params_mut(), ChronoGates::GRU, 10.0, &mut seeded(3)).unwrap();
        let z = w.gate(1).unwrap();
        assert!(
            z.bias_ih
                .unwrap()
                .iter()
                .all(|&b| (0.0..9f32.ln()).contains(&b))
        );
        assert!(z.bias_hh.unwrap().iter().all(|&b| b == 0.0));
        assert_eq!((w.gate(0), w.gate(2)), (before.gate(0), before.gate(2)));
        // T_max = 2: U[1, 1], a zero bias.
        chrono(w.params_mut(), ChronoGates::GRU, 2.0, &mut seeded(3)).unwrap();
        assert!(
            w.gate(1)
                .unwrap()
                .bias_ih
                .unwrap()
                .iter()
                .all(|&b| b == 0.0)
        );
    }

    #[test]
    fn bad_ranges_missing_biases_and_gates_are_typed_errors() {
        let mut w = GateWeights::<f64>::zeros(2, 3, 4, true).unwrap();
        let before = w.clone();
        for t in [1.5, f64::NAN, f64::INFINITY, -3.0] {
            match chrono(w.params_mut(), ChronoGates::LSTM, t, &mut seeded(0)) {
                Err(CellError::BadInit {
                    init: "chrono",
                    reason,
                }) => {
                    assert!(reason.contains("at least 2"), "{reason}")
                }
                other => panic!("{t}: {other:?}"),
            }
        }
        let mut nb = GateWeights::<f64>::zeros(2, 3, 4, false).unwrap();
        assert!(matches!(
            chrono(nb.params_mut(), ChronoGates::LSTM, 10.0, &mut seeded(0)),
            Err(CellError::UnknownParam { name, .. }) if name == "bias_ih"
        ));
        let mut rnn = Params::<f64>::new();
        rnn.push(Param::zeros("bias_ih", &[3], 1).unwrap()).unwrap();
        assert!(matches!(
            chrono(&mut rnn, ChronoGates::GRU, 10.0, &mut seeded(0)),
            Err(CellError::BadParam { name, .. }) if name == "bias_ih"
        ));
        assert_eq!(w, before, "nothing written");
    }
}
