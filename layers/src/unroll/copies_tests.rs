//! The copies' losses are the losses of the pass with each value changed in place, for every
//! gated cell, target, direction and length setting; a cell of another form has none.

use rnnzoo_cell::Cell;

use super::Target;
use super::tests::{StepByStep, cells, random};
use crate::gradcheck::dot;
use crate::{Direction, Inputs, Layer, Recurrent};

/// The loss of one pass, the plain way.
fn loss(
    layer: &Recurrent<Box<dyn Cell<f64>>>,
    inputs: Inputs<'_, f64>,
    d: &[f64],
    f: &[f64],
) -> f64 {
    let out = layer.infer(inputs).unwrap();
    dot(&out.output, d) + dot(&out.final_state, f)
}

#[test]
fn every_copy_is_its_changed_pass() {
    let (steps, batch) = (5, 3);
    for (name, cell) in cells(3, 4) {
        let (i, h, s) = (cell.input_size(), cell.hidden_size(), cell.state_size());
        let params = cell.params().len();
        let mut layer = Recurrent::new(cell);
        for direction in [Direction::Forward, Direction::Reverse] {
            layer.direction = direction;
            for lengths in [None, Some(vec![5, 2, 4])] {
                let mut x = random(i * steps * batch, 3);
                let mut init = random(s * batch, 4);
                let d_out = random(h * steps * batch, 5);
                let d_final = random(s * batch, 6);
                let targets = (0..params)
                    .map(|param| Target::Param { param })
                    .chain([Target::Input, Target::Initial]);
                for target in targets {
                    let n = match target {
                        Target::Param { param } => layer.cell().params().at(param).len(),
                        Target::Input => x.len(),
                        Target::Initial => init.len(),
                    };
                    // Every element, moved by a different amount (a padded input included).
                    let at: Vec<(usize, f64)> = (0..n)
                        .map(|k| {
                            let base = match target {
                                Target::Param { param } => {
                                    layer.cell().params().at(param).data()[k]
                                }
                                Target::Input => x[k],
                                Target::Initial => init[k],
                            };
                            (k, base + 0.01 * (k as f64 + 1.0))
                        })
                        .collect();
                    let inputs = Inputs::new(&x, steps, batch).initial(&init);
                    let inputs = match &lengths {
                        Some(l) => inputs.lengths(l),
                        None => inputs,
                    };
                    let got = layer
                        .perturbed_losses(&inputs, &d_out, &d_final, target, &at)
                        .expect("a gated cell");
                    for (&(k, value), got) in at.iter().zip(got) {
                        let old = match target {
                            Target::Param { param } => std::mem::replace(
                                &mut layer.cell_mut().params_mut().at_mut(param).data_mut()[k],
                                value,
                            ),
                            Target::Input => std::mem::replace(&mut x[k], value),
                            Target::Initial => std::mem::replace(&mut init[k], value),
                        };
                        let inputs = Inputs::new(&x, steps, batch).initial(&init);
                        let inputs = match &lengths {
                            Some(l) => inputs.lengths(l),
                            None => inputs,
                        };
                        let want = loss(&layer, inputs, &d_out, &d_final);
                        assert!(
                            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                            "{name} {direction:?} {lengths:?} {target:?} element {k}: {got} against {want}"
                        );
                        match target {
                            Target::Param { param } => {
                                layer.cell_mut().params_mut().at_mut(param).data_mut()[k] = old
                            }
                            Target::Input => x[k] = old,
                            Target::Initial => init[k] = old,
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_cell_of_another_form_has_no_copies() {
    let (_, cell) = cells(2, 3).remove(1);
    let layer = Recurrent::new(StepByStep(cell));
    let x = random(2 * 4, 1);
    let (d_out, d_final) = (random(3 * 4, 2), random(6, 3));
    let inputs = Inputs::new(&x, 4, 1);
    let at = [(0, 0.5)];
    assert!(
        layer
            .perturbed_losses(&inputs, &d_out, &d_final, Target::Input, &at)
            .is_none()
    );
}
