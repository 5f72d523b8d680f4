//! The dense head and the losses against finite differences, and their masking.

use rnnzoo_cell::gradcheck::{Differentiable, Options, check, normal_vec};
use rnnzoo_cell::seeded;
use rnnzoo_layers::LayerError;
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::loss::{binary_cross_entropy, cross_entropy, mse};
use rnnzoo_layers::readout::{last_steps, scatter_last_steps, step_mask};

/// Head then loss, as a function of the head's parameters and its input.
struct HeadLoss {
    head: Dense<f64>,
    h: Vec<f64>,
    n: usize,
    kind: Kind,
    mask: Vec<bool>,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Mse(Activation),
    CrossEntropy,
    Linear(Activation),
}

impl HeadLoss {
    fn eval(&self) -> (f64, Vec<f64>) {
        let y = self.head.forward(&self.h, self.n).unwrap();
        let rows = self.head.output_size();
        match self.kind {
            Kind::Mse(_) => {
                let target: Vec<f64> = (0..y.len()).map(|k| (k as f64 * 0.37).sin()).collect();
                let l = mse(&y, &target, rows, Some(&self.mask)).unwrap();
                (l.value, l.grad)
            }
            Kind::CrossEntropy => {
                let targets: Vec<usize> = (0..self.n).map(|c| (c * 7 + 1) % rows).collect();
                let l = cross_entropy(&y, &targets, rows, Some(&self.mask)).unwrap();
                (l.value, l.grad)
            }
            Kind::Linear(_) => {
                let w = normal_vec(y.len(), &mut seeded(4));
                (y.iter().zip(&w).map(|(a, b)| a * b).sum(), w)
            }
        }
    }
}

impl Differentiable for HeadLoss {
    fn groups(&self) -> Vec<String> {
        vec!["weight".into(), "bias".into(), "h".into()]
    }
    fn values_mut(&mut self, g: usize) -> &mut [f64] {
        if g < 2 {
            self.head.params_mut().at_mut(g).data_mut()
        } else {
            &mut self.h
        }
    }
    fn loss(&mut self) -> f64 {
        self.eval().0
    }
    fn gradients(&mut self) -> Vec<Vec<f64>> {
        let y = self.head.forward(&self.h, self.n).unwrap();
        let (_, d_y) = self.eval();
        let mut grads = self.head.params().zeros_like();
        let d_h = self
            .head
            .backward(&self.h, &y, &d_y, self.n, &mut grads)
            .unwrap();
        vec![
            grads.at(0).data().to_vec(),
            grads.at(1).data().to_vec(),
            d_h,
        ]
    }
}

#[test]
fn head_and_losses_pass_the_gradient_check() {
    let kinds = [
        Kind::Linear(Activation::Identity),
        Kind::Linear(Activation::Sigmoid),
        Kind::Linear(Activation::Softmax),
        Kind::Mse(Activation::Identity),
        Kind::Mse(Activation::Sigmoid),
        Kind::CrossEntropy,
    ];
    for kind in kinds {
        let act = match kind {
            Kind::Mse(a) | Kind::Linear(a) => a,
            Kind::CrossEntropy => Activation::Identity,
        };
        let n = 6;
        let mut f = HeadLoss {
            head: Dense::new(5, 4, act, &mut seeded(1)).unwrap(),
            h: normal_vec(5 * n, &mut seeded(2)),
            n,
            kind,
            mask: step_mask(3, 2, Some(&[3, 1])).unwrap(),
        };
        let report = check(&mut f, &Options::default());
        assert!(report.passed(), "{kind:?}\n{report}");
    }
}

#[test]
fn masked_columns_do_not_count() {
    let pred = [1.0f64, 100.0, 3.0];
    let l = mse(&pred, &[0.0, 0.0, 1.0], 1, Some(&[true, false, true])).unwrap();
    assert_eq!((l.value, l.count), (2.5, 2));
    assert_eq!(l.grad, vec![1.0, 0.0, 2.0]);
    let ce = cross_entropy(&[0.0f64, 0.0, 5.0, -5.0], &[0, 9], 2, Some(&[true, false])).unwrap();
    assert!((ce.value - 2f64.ln()).abs() < 1e-15);
    assert_eq!(
        mse(&pred, &[0.0; 3], 1, Some(&[false; 3])).unwrap_err(),
        LayerError::NothingToAverage
    );
    assert_eq!(
        cross_entropy(&[0.0f64, 0.0], &[2], 2, None).unwrap_err(),
        LayerError::ClassOutOfRange {
            column: 0,
            class: 2,
            classes: 2
        }
    );
}

#[test]
fn cross_entropy_is_stable_for_large_logits() {
    let l = cross_entropy(&[1000.0f32, 0.0], &[1], 2, None).unwrap();
    assert!((l.value - 1000.0).abs() < 1e-3 && l.grad.iter().all(|g| g.is_finite()));
}

#[test]
fn scatter_is_the_adjoint_of_gather() {
    let (h, t, b) = (2, 4, 3);
    let lengths = [4, 1, 3];
    let x = normal_vec(h * t * b, &mut seeded(1));
    let y = normal_vec(h * b, &mut seeded(2));
    let gx = last_steps(&x, h, t, b, Some(&lengths)).unwrap();
    let sy = scatter_last_steps(&y, h, t, b, Some(&lengths)).unwrap();
    let lhs: f64 = gx.iter().zip(&y).map(|(a, b)| a * b).sum();
    let rhs: f64 = x.iter().zip(&sy).map(|(a, b)| a * b).sum();
    assert!((lhs - rhs).abs() < 1e-12);
}

#[test]
fn readout_helpers_refuse_sizes_that_do_not_fit() {
    let (h, t, b) = (2, 3, 2);
    let x = vec![0.0f64; h * t * b];
    // The output is not hidden x (T*B).
    assert_eq!(
        last_steps(&x[1..], h, t, b, None),
        Err(LayerError::Size {
            what: "output",
            expected: 12,
            got: 11
        })
    );
    assert_eq!(
        last_steps(&x, h, t, b, Some(&[3, 4])),
        Err(LayerError::LengthTooLong {
            sample: 1,
            length: 4,
            steps: 3
        })
    );
    assert_eq!(
        last_steps(&x, h, t, b, Some(&[3])),
        Err(LayerError::LengthsCount {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(last_steps(&x, h, 0, b, None), Err(LayerError::NoSteps));
    assert_eq!(
        last_steps::<f64>(&[], h, t, 0, None),
        Err(LayerError::EmptyBatch)
    );
    // The gradient is not hidden x B.
    assert_eq!(
        scatter_last_steps(&[0.0f64; 5], h, t, b, None),
        Err(LayerError::Size {
            what: "d",
            expected: 4,
            got: 5
        })
    );
    assert_eq!(
        scatter_last_steps(&[0.0f64; 4], h, t, b, Some(&[0, 1])),
        Err(LayerError::ZeroLength {
            sample: 0,
            steps: 3
        })
    );
    assert_eq!(
        scatter_last_steps(&[0.0f64; 4], h, 0, b, None),
        Err(LayerError::NoSteps)
    );
    assert_eq!(
        step_mask(3, 2, Some(&[1, 2, 3])),
        Err(LayerError::LengthsCount {
            expected: 2,
            got: 3
        })
    );
    assert_eq!(
        step_mask(3, 2, Some(&[1, 9])),
        Err(LayerError::LengthTooLong {
            sample: 1,
            length: 9,
            steps: 3
        })
    );
    assert_eq!(step_mask(2, 1, None), Ok(vec![true, true]));
}

#[test]
fn binary_cross_entropy_matches_its_formula_and_its_finite_differences() {
    let z = [2.0f64, -1.0, 0.5, 30.0, -30.0, 0.0];
    let y = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    let mask = [true, false, true];
    let l = binary_cross_entropy(&z, &y, 2, Some(&mask)).unwrap();
    let term = |z: f64, y: f64| {
        -(y * (1.0 / (1.0 + (-z).exp())).ln() + (1.0 - y) * (1.0 / (1.0 + z.exp())).ln())
    };
    let want = [0, 1, 4, 5].iter().map(|&k| term(z[k], y[k])).sum::<f64>() / 4.0;
    assert!((l.value - want).abs() < 1e-12, "{} vs {want}", l.value);
    assert_eq!(l.count, 2);
    assert_eq!(
        &l.grad[2..4],
        &[0.0, 0.0],
        "a masked column has no gradient"
    );
    let eps = 1e-6;
    for k in [0, 1, 4, 5] {
        let (mut up, mut down) = (z, z);
        up[k] += eps;
        down[k] -= eps;
        let f = |v: &[f64]| binary_cross_entropy(v, &y, 2, Some(&mask)).unwrap().value;
        let numeric = (f(&up) - f(&down)) / (2.0 * eps);
        assert!(
            (numeric - l.grad[k]).abs() < 1e-7,
            "{k}: {numeric} vs {}",
            l.grad[k]
        );
    }
    // A large logit on the wrong side costs about its size, without overflow.
    let big = binary_cross_entropy(&[1000.0f32], &[0.0], 1, None).unwrap();
    assert!((big.value - 1000.0).abs() < 1e-3 && big.grad[0].is_finite());
    assert!(matches!(
        binary_cross_entropy(&z, &y[1..], 2, None),
        Err(LayerError::GradShape { what: "target", .. })
    ));
    assert_eq!(
        binary_cross_entropy(&z, &y, 2, Some(&[false; 3])).unwrap_err(),
        LayerError::NothingToAverage
    );
}
