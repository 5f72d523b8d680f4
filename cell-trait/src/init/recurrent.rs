//! Initialisations of a cell's recurrent weights, over its parameters by PyTorch's names: each
//! gate block of `weight_hh` orthogonal, or the IRNN's identity.

use rand::Rng;

use crate::{CellError, Init, Param, Params, Real};

/// The parameter `name`, or [`CellError::UnknownParam`] listing the names there are.
pub(super) fn param_mut<'a, T: Real>(
    params: &'a mut Params<T>,
    name: &str,
) -> Result<&'a mut Param<T>, CellError> {
    let known: Vec<String> = params.names().map(String::from).collect();
    params.get_mut(name).ok_or_else(|| CellError::UnknownParam {
        name: name.to_string(),
        known,
    })
}

/// Each gate block of `weight_hh` (`H` rows, see [`Param::gates`]) a uniformly (Haar) random
/// orthogonal matrix, semi-orthogonal if the block is not square (Saxe, McClelland & Ganguli,
/// "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks", ICLR
/// 2014): the `Q` of the QR decomposition of a standard Gaussian matrix, its columns' signs fixed
/// by `R`'s diagonal (Mezzadri, "How to generate random matrices from the classical compact
/// groups", Notices of the AMS 54(5), 2007), as PyTorch's `nn.init.orthogonal_` does. Every other
/// parameter is left as it is.
///
/// ```
/// use rnnzoo_cell::{orthogonal_recurrent, seeded, GateWeights};
/// let mut w = GateWeights::<f64>::zeros(3, 4, 4, true)?; // an LSTM's: four 4 x 4 blocks
/// orthogonal_recurrent(w.params_mut(), &mut seeded(0))?;
/// let b = w.weight_hh().gate(2); // rows 8..12, row-major
/// let dot = |i: usize, j: usize| (0..4).map(|k| b[k * 4 + i] * b[k * 4 + j]).sum::<f64>();
/// assert!((dot(0, 0) - 1.0).abs() < 1e-12 && dot(0, 3).abs() < 1e-12);
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
///
/// # Errors
///
/// [`CellError::UnknownParam`] if there is no `weight_hh`; nothing is written then.
pub fn orthogonal_recurrent<T: Real, R: Rng + ?Sized>(
    params: &mut Params<T>,
    rng: &mut R,
) -> Result<(), CellError> {
    Init::Orthogonal { gain: 1.0 }.apply(param_mut(params, "weight_hh")?, rng);
    Ok(())
}

/// Standard deviation of the IRNN's Gaussian input weights (Le, Jaitly & Hinton 2015,
/// arXiv:1504.00941). The value is the one Keras's IRNN example uses with the identity
/// recurrent initialiser and relu (`examples/mnist_irnn.py`: `RandomNormal(stddev=0.001)`); the
/// paper's own text was not available to check it against.
pub const IRNN_INPUT_STD: f64 = 0.001;

/// The IRNN of Le, Jaitly & Hinton, "A simple way to initialize recurrent networks of rectified
/// linear units", arXiv:1504.00941, 2015 (Section 2: "the recurrent weight matrix \[is\]
/// initialized to be the identity matrix and biases to be zero"): each gate block of
/// `weight_hh` exactly `I` (zero off the diagonal also when not square), `bias_ih` and `bias_hh`
/// zero where the cell has them, `weight_ih` `N(0, IRNN_INPUT_STD^2)` drawn from `rng`. Meant for
/// a relu RNN (`G = 1`).
///
/// ```
/// use rnnzoo_cell::{irnn, seeded, GateWeights};
/// let mut w = GateWeights::<f64>::zeros(2, 3, 1, true)?;
/// w.init_pytorch(&mut seeded(0));
/// irnn(w.params_mut(), &mut seeded(1))?;
/// assert_eq!(w.weight_hh().data(), &[1., 0., 0., 0., 1., 0., 0., 0., 1.]);
/// assert!(w.bias_ih().unwrap().data().iter().all(|&b| b == 0.0));
/// assert!(w.weight_ih().data().iter().all(|&v| v.abs() < 0.01));
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
///
/// # Errors
///
/// [`CellError::UnknownParam`] if there is no `weight_ih` or `weight_hh`; nothing is written
/// then.
pub fn irnn<T: Real, R: Rng + ?Sized>(
    params: &mut Params<T>,
    rng: &mut R,
) -> Result<(), CellError> {
    param_mut(params, "weight_hh")?;
    Init::Normal {
        mean: 0.0,
        std: IRNN_INPUT_STD,
    }
    .apply(param_mut(params, "weight_ih")?, rng);
    Init::Identity { scale: 1.0 }.apply(param_mut(params, "weight_hh")?, rng);
    for name in ["bias_ih", "bias_hh"] {
        if let Some(b) = params.get_mut(name) {
            b.data_mut().fill(T::zero());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;
    use crate::{GateWeights, seeded};

    #[test]
    fn every_gate_block_of_weight_hh_is_orthogonal_and_nothing_else_moves() {
        for (gates, h) in [(1, 1), (1, 6), (3, 5), (4, 7)] {
            let mut w = GateWeights::<f64>::zeros(3, h, gates, true).unwrap();
            w.init_pytorch(&mut seeded(2));
            let before = w.clone();
            orthogonal_recurrent(w.params_mut(), &mut seeded(3)).unwrap();
            for g in 0..gates {
                let b = DMatrix::from_row_slice(h, h, w.weight_hh().gate(g));
                let err = (b.transpose() * &b - DMatrix::identity(h, h)).amax();
                assert!(err < 1e-12, "G={gates} H={h} block {g}: {err}");
            }
            for k in [0, 2, 3] {
                assert_eq!(w.params()[k], before.params()[k]);
            }
            assert_ne!(w.weight_hh(), before.weight_hh());
        }
    }

    #[test]
    fn irnn_is_the_identity_zero_biases_and_small_gaussian_inputs() {
        let mut w = GateWeights::<f32>::zeros(100, 50, 1, true).unwrap();
        w.init_pytorch(&mut seeded(4));
        irnn(w.params_mut(), &mut seeded(5)).unwrap();
        let hh = w.weight_hh().data();
        for i in 0..50 {
            for j in 0..50 {
                assert_eq!(hh[i * 50 + j], if i == j { 1.0 } else { 0.0 });
            }
        }
        for b in [w.bias_ih().unwrap(), w.bias_hh().unwrap()] {
            assert!(b.data().iter().all(|&v| v == 0.0));
        }
        let ih = w.weight_ih().data();
        let var = ih.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / ih.len() as f64;
        assert!((var.sqrt() - IRNN_INPUT_STD).abs() < 2e-5, "{}", var.sqrt());
        // Without biases there is nothing to zero.
        let mut nb = GateWeights::<f64>::zeros(2, 2, 1, false).unwrap();
        irnn(nb.params_mut(), &mut seeded(0)).unwrap();
        assert_eq!(nb.weight_hh().data(), &[1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn a_cell_without_the_weights_is_an_error_that_lists_what_it_has() {
        let mut p = Params::<f64>::new();
        p.push(Param::zeros("weight_ih", &[2, 2], 1).unwrap())
            .unwrap();
        let before = p.clone();
        let e = orthogonal_recurrent(&mut p, &mut seeded(0)).unwrap_err();
        assert_eq!(
            e,
            CellError::UnknownParam {
                name: "weight_hh".into(),
                known: vec!["weight_ih".into()]
            }
        );
        assert!(matches!(
            irnn(&mut p, &mut seeded(0)),
            Err(CellError::UnknownParam { name, .. }) if name == "weight_hh"
        ));
        assert_eq!(p, before, "nothing written");
    }
}
