//! Gradient checks through time: any cell, unrolled, against finite differences.
//!
//! [`UnrolledLoss`] makes a [`Recurrent`] layer on a fixed sequence a
//! [`Differentiable`]: the loss is `<d_out, output> + <d_final, final_state>` with random
//! cotangents, the groups are every parameter, the input and the initial state. [`check_unrolled`]
//! draws all of it from an [`UnrollCase`], which `rnnzoo_cell::strategies` generates, so a cell in
//! any crate is checked through time in a few lines:
//!
//! ```
//! use rnnzoo_cell::{gradcheck::Options, seeded, strategies::UnrollCase};
//! use rnnzoo_layers::gradcheck::check_unrolled;
//! use rnnzoo_vanilla::{Nonlinearity, VanillaCell};
//!
//! let case = UnrollCase {
//!     input: 3, hidden: 4, batch: 2, steps: 5,
//!     lengths: Some(vec![5, 2]), reverse: true, initial_state: true, seed: 1,
//! };
//! let cell = VanillaCell::<f64>::new(case.input, case.hidden, Nonlinearity::Tanh, &mut seeded(case.seed))?;
//! let report = check_unrolled(cell, &case, &Options::default())?;
//! assert!(report.passed(), "{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rnnzoo_cell::gradcheck::{check, normal_vec, Differentiable, Options, Report};
use rnnzoo_cell::strategies::UnrollCase;
use rnnzoo_cell::{seeded, Cell};

use crate::{Direction, Inputs, LayerError, Recurrent};

/// A layer on a fixed sequence with a random linear loss (see the module docs).
pub struct UnrolledLoss<C> {
    layer: Recurrent<C>,
    x: Vec<f64>,
    initial: Option<Vec<f64>>,
    lengths: Option<Vec<usize>>,
    steps: usize,
    batch: usize,
    d_out: Vec<f64>,
    d_final: Vec<f64>,
}

impl<C: Cell<f64>> UnrolledLoss<C> {
    /// The layer, sequence, optional initial state and lengths of `case`, with the cell's own sizes;
    /// inputs, state and cotangents are standard normal from `case.seed`.
    ///
    /// # Errors
    ///
    /// [`LayerError`] if the case does not fit the layer (for example lengths longer than the
    /// sequence).
    pub fn new(cell: C, case: &UnrollCase) -> Result<Self, LayerError> {
        let direction = if case.reverse {
            Direction::Reverse
        } else {
            Direction::Forward
        };
        let layer = Recurrent::with_direction(cell, direction);
        let mut rng = seeded(case.seed ^ 0x9e37_79b9_7f4a_7c15);
        let (i, h, s) = (
            layer.cell().input_size(),
            layer.cell().hidden_size(),
            layer.cell().state_size(),
        );
        let (steps, batch) = (case.steps, case.batch);
        let x = normal_vec(i * steps * batch, &mut rng);
        let initial = case.initial_state.then(|| normal_vec(s * batch, &mut rng));
        let d_out = normal_vec(h * steps * batch, &mut rng);
        let d_final = normal_vec(s * batch, &mut rng);
        let this = Self {
            layer,
            x,
            initial,
            lengths: case.lengths.clone(),
            steps,
            batch,
            d_out,
            d_final,
        };
        this.layer.forward(this.inputs())?;
        Ok(this)
    }

    fn inputs(&self) -> Inputs<'_, f64> {
        Inputs {
            x: &self.x,
            steps: self.steps,
            batch: self.batch,
            initial: self.initial.as_deref(),
            lengths: self.lengths.as_deref(),
        }
    }

    /// The layer.
    pub fn layer(&self) -> &Recurrent<C> {
        &self.layer
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl<C: Cell<f64>> Differentiable for UnrolledLoss<C> {
    fn groups(&self) -> Vec<String> {
        let mut g: Vec<String> = self
            .layer
            .cell()
            .params()
            .names()
            .map(String::from)
            .collect();
        g.push("input".into());
        if self.initial.is_some() {
            g.push("initial_state".into());
        }
        g
    }

    fn values_mut(&mut self, group: usize) -> &mut [f64] {
        let n = self.layer.cell().params().len();
        match group {
            g if g < n => self.layer.cell_mut().params_mut().at_mut(g).data_mut(),
            g if g == n => &mut self.x,
            _ => self
                .initial
                .as_deref_mut()
                .expect("initial_state group exists only with an initial state"),
        }
    }

    fn loss(&mut self) -> f64 {
        let out = self
            .layer
            .forward(self.inputs())
            .expect("inputs checked in new")
            .0;
        dot(&out.output, &self.d_out) + dot(&out.final_state, &self.d_final)
    }

    fn gradients(&mut self) -> Vec<Vec<f64>> {
        let (_, tape) = self
            .layer
            .forward(self.inputs())
            .expect("inputs checked in new");
        let mut grads = self.layer.cell().params().zeros_like();
        let g = self
            .layer
            .backward(&tape, &self.d_out, Some(&self.d_final), &mut grads)
            .expect("shapes are the layer's own");
        let mut out: Vec<Vec<f64>> = grads.iter().map(|p| p.data().to_vec()).collect();
        out.push(g.d_input);
        if self.initial.is_some() {
            out.push(g.d_initial);
        }
        out
    }
}

/// Checks `cell` unrolled as `case` says: every parameter element, the input and the initial
/// state (when the case has one), against central differences.
///
/// # Errors
///
/// [`LayerError`] if the case does not fit the cell.
pub fn check_unrolled<C: Cell<f64>>(
    cell: C,
    case: &UnrollCase,
    opts: &Options,
) -> Result<Report, LayerError> {
    Ok(check(&mut UnrolledLoss::new(cell, case)?, opts))
}
