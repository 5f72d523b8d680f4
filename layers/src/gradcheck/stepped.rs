//! A whole unrolled pass against the same cell stepped one step at a time: the check that a
//! cell's sequence path (the gated hoisting, a scan pass) computes its steps.

use rnnzoo_cell::gradcheck::normal_vec;
use rnnzoo_cell::strategies::UnrollCase;
use rnnzoo_cell::testing::forward_step;
use rnnzoo_cell::{Cell, seeded};

use super::direction;
use crate::{Inputs, Layer, LayerError, Recurrent};

/// How far an unrolled pass is from its steps (see [`unrolled_against_steps`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stepped {
    /// The largest absolute difference over every valid output and every final state.
    pub worst: f64,
    /// Padded outputs that are not exactly zero.
    pub padded_nonzero: usize,
}

/// Unrolls `cell` as `case` says (direction, lengths, initial state; inputs and state standard
/// normal from `case.seed`) and steps each sample through its valid steps, in the layer's reading
/// order, with [`forward_step`] (every output NaN-poisoned first).
///
/// ```
/// use rnnzoo_cell::{seeded, strategies::UnrollCase};
/// use rnnzoo_layers::gradcheck::unrolled_against_steps;
/// use rnnzoo_gru::GruCell;
///
/// let case = UnrollCase {
///     input: 3, hidden: 4, batch: 3, steps: 6,
///     lengths: Some(vec![6, 2, 4]), reverse: true, initial_state: true, seed: 1,
/// };
/// let s = unrolled_against_steps(&GruCell::<f64>::new(3, 4, &mut seeded(0))?, &case)?;
/// assert!(s.worst < 1e-12 && s.padded_nonzero == 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`LayerError`] if the case does not fit the cell.
pub fn unrolled_against_steps<C: Cell<f64> + Clone>(
    cell: &C,
    case: &UnrollCase,
) -> Result<Stepped, LayerError> {
    let (i, h, s, b, steps) = (
        cell.input_size(),
        cell.hidden_size(),
        cell.state_size(),
        case.batch,
        case.steps,
    );
    let mut rng = seeded(case.seed ^ 0x57e9_9ed0);
    let x = normal_vec(i * steps * b, &mut rng);
    let h0 = if case.initial_state {
        normal_vec(s * b, &mut rng)
    } else {
        vec![0.0; s * b]
    };
    let lengths = case.lengths.clone().unwrap_or_else(|| vec![steps; b]);
    let layer = Recurrent::with_direction(cell.clone(), direction(case));
    let out = layer.infer(Inputs::new(&x, steps, b).initial(&h0).lengths(&lengths))?;
    let mut worst = 0.0f64;
    let mut padded_nonzero = 0;
    let mut diff = |got: &[f64], want: &[f64]| {
        for (g, w) in got.iter().zip(want) {
            worst = worst.max((g - w).abs());
        }
    };
    for (col, &len) in lengths.iter().enumerate() {
        let mut state = h0[col * s..][..s].to_vec();
        for k in 0..len {
            let t = if case.reverse { len - 1 - k } else { k };
            let (next, _) = forward_step(cell, &x[(t * b + col) * i..][..i], &state, 1);
            diff(&out.output[(t * b + col) * h..][..h], &next[..h]);
            state = next;
        }
        diff(&out.final_state[col * s..][..s], &state);
        for t in len..steps {
            let padded = &out.output[(t * b + col) * h..][..h];
            padded_nonzero += padded.iter().filter(|&&v| v != 0.0).count();
        }
    }
    Ok(Stepped {
        worst,
        padded_nonzero,
    })
}
