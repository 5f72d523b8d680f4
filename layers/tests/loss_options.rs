//! PyTorch's loss options against PyTorch's own formulas, written out as scalar loops from
//! `aten/src/ATen/native/LossNLL.cpp` (`cross_entropy_loss_label_smoothing`, `nll_loss` with
//! `weight`): class weights and label smoothing of the cross-entropy, `reduction="sum"` of
//! every loss, and the trainer taking them; the gradient also against finite differences of the
//! reference. The PyTorch code the reference follows:
//!
//! ```python
//! logp = log_softmax(z, 1)
//! nll = nll_loss(logp, y, weight, reduction)            # mean: sum_i w[y_i] * -logp[i, y_i] / sum_i w[y_i]
//! smooth = -(logp * weight).sum(1)                      # or -logp.sum(1) without weights
//! smooth = smooth.sum() / weight[y].sum()               # mean; sum: smooth.sum()
//! loss = (1 - e) * nll + smooth * (e / n_classes)
//! ```

use rnnzoo_cell::{Real, seeded};
use rnnzoo_layers::LayerError;
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::loss::{CrossEntropyOptions, Reduction, cross_entropy_with, mse};
use rnnzoo_layers::optim::Sgd;
use rnnzoo_layers::train::{Batch, Targets, TrainConfig, Trainer};
use rnnzoo_layers::{Model, Readout, Recurrent, Stack};

/// PyTorch's value of `cross_entropy(z, y, weight, label_smoothing=e, reduction)`, `z` of `n`
/// columns of `k` logits.
fn reference(z: &[f64], y: &[usize], k: usize, w: Option<&[f64]>, e: f64, sum: bool) -> f64 {
    let wk = |c: usize| w.map_or(1.0, |w| w[c]);
    let logp = |i: usize, c: usize| {
        let zi = &z[i * k..(i + 1) * k];
        let max = zi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + zi.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        zi[c] - lse
    };
    let mut nll = 0.0;
    let mut weight_sum = 0.0;
    let mut smooth = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        nll += wk(yi) * -logp(i, yi);
        weight_sum += wk(yi);
        for c in 0..k {
            smooth += -logp(i, c) * wk(c);
        }
    }
    let (nll, smooth) = if sum {
        (nll, smooth)
    } else {
        (nll / weight_sum, smooth / weight_sum)
    };
    (1.0 - e) * nll + smooth * (e / k as f64)
}

fn logits(n: usize, k: usize, seed: u64) -> Vec<f64> {
    rnnzoo_cell::gradcheck::normal_vec(n * k, &mut seeded(seed))
        .iter()
        .map(|v| 2.0 * v)
        .collect()
}

#[test]
fn weights_and_smoothing_follow_pytorchs_formula_value_and_gradient() {
    let (n, k) = (7, 5);
    let y = [0, 4, 2, 2, 1, 3, 4];
    let w = [0.5, 2.0, 1.0, 0.0, 3.0];
    for (seed, weight, e) in [
        (1, None, 0.0),
        (2, None, 0.1),
        (3, Some(&w[..]), 0.0),
        (4, Some(&w[..]), 0.25),
        (5, Some(&w[..]), 1.0),
    ] {
        let z = logits(n, k, seed);
        let opts = CrossEntropyOptions {
            weight: weight.map(<[f64]>::to_vec),
            label_smoothing: e,
        };
        for reduction in [Reduction::Mean, Reduction::Sum] {
            let sum = reduction == Reduction::Sum;
            let l = cross_entropy_with(&z, &y, k, None, &opts)
                .unwrap()
                .reduced(reduction);
            let want = reference(&z, &y, k, weight, e, sum);
            assert!(
                (l.value - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{weight:?} e={e} {reduction:?}: {} vs PyTorch's {want}",
                l.value
            );
            // The gradient against central differences of PyTorch's formula.
            for j in 0..z.len() {
                let h = 1e-6;
                let (mut up, mut down) = (z.clone(), z.clone());
                up[j] += h;
                down[j] -= h;
                let fd = (reference(&up, &y, k, weight, e, sum)
                    - reference(&down, &y, k, weight, e, sum))
                    / (2.0 * h);
                assert!(
                    (l.grad[j] - fd).abs() <= 1e-7 * fd.abs().max(1.0),
                    "{weight:?} e={e} {reduction:?} d/dz[{j}]: {} vs {fd}",
                    l.grad[j]
                );
            }
        }
    }
}

#[test]
fn the_sum_is_the_mean_times_what_it_divided_by() {
    let (p, t) = ([0.5f64, -1.0, 2.0, 0.0], [0.0, 1.0, 1.0, 3.0]);
    let mean = mse(&p, &t, 2, None).unwrap();
    let sum = mse(&p, &t, 2, None).unwrap().reduced(Reduction::Sum);
    // torch.nn.functional.mse_loss(p, t, reduction="sum") = sum of squares.
    let squares: f64 = p.iter().zip(&t).map(|(a, b)| (a - b) * (a - b)).sum();
    assert_eq!(sum.value, squares);
    assert_eq!(mean.value, squares / 4.0);
    let twice: Vec<f64> = p.iter().zip(&t).map(|(a, b)| 2.0 * (a - b)).collect();
    assert_eq!(sum.grad, twice);
}

#[test]
fn bad_options_are_errors() {
    let z = logits(2, 3, 0);
    let bad = |weight: Option<Vec<f64>>, e: f64| {
        cross_entropy_with(
            &z,
            &[0, 1],
            3,
            None,
            &CrossEntropyOptions {
                weight,
                label_smoothing: e,
            },
        )
        .unwrap_err()
    };
    assert!(matches!(
        bad(None, 1.5),
        LayerError::LossOption {
            what: "label_smoothing",
            ..
        }
    ));
    assert!(matches!(bad(None, f64::NAN), LayerError::LossOption { .. }));
    assert!(matches!(
        bad(Some(vec![1.0, 2.0]), 0.0),
        LayerError::GradShape {
            what: "class weights",
            expected: 3,
            got: 2
        }
    ));
    assert!(matches!(
        bad(Some(vec![1.0, -1.0, 1.0]), 0.0),
        LayerError::LossOption {
            what: "class weight",
            ..
        }
    ));
    assert!(matches!(
        bad(Some(vec![0.0, 0.0, 1.0]), 0.0),
        LayerError::LossOption {
            what: "class weights of the targets",
            ..
        }
    ));
}

/// A small classifier: an RNN and a head without bias (`nn.Linear(8, 3, bias=False)`).
fn classifier<T: Real>() -> Model<T> {
    let cell = rnnzoo_vanilla::VanillaCell::<T>::new(
        2,
        8,
        rnnzoo_vanilla::Nonlinearity::Tanh,
        &mut seeded(3),
    )
    .unwrap();
    let body = Stack::new(vec![
        Box::new(Recurrent::new(cell)) as Box<dyn rnnzoo_layers::Layer<T>>
    ])
    .unwrap();
    let head = Dense::new_with_bias(8, 3, Activation::Identity, false, &mut seeded(4)).unwrap();
    Model::new(body, head, Readout::LastStep).unwrap()
}

fn batch() -> Batch<f64> {
    Batch {
        inputs: logits(6, 2, 9),
        features: 2,
        steps: 3,
        batch: 2,
        lengths: None,
        targets: Targets::FinalClasses {
            classes: vec![2, 0],
            num_classes: 3,
        },
    }
}

/// The trainer's loss is the options' loss: a step reports PyTorch's value, and SGD on the sum
/// moves the weights as SGD on the mean at a learning rate times the mean's denominator.
#[test]
fn the_trainer_takes_the_options_and_the_reduction() {
    let opts = CrossEntropyOptions {
        weight: Some(vec![1.0, 0.5, 2.0]),
        label_smoothing: 0.1,
    };
    let config = |reduction| TrainConfig {
        reduction,
        cross_entropy: opts.clone(),
        ..TrainConfig::default()
    };
    let b = batch();
    let mut mean = Trainer::new(
        classifier::<f64>(),
        Box::new(Sgd::new(0.1 * 3.0)),
        config(Reduction::Mean),
    );
    let mut sum = Trainer::new(
        classifier::<f64>(),
        Box::new(Sgd::new(0.1)),
        config(Reduction::Sum),
    );
    assert!(!mean.model().head().has_bias());
    let logits_before = mean
        .model()
        .predict(rnnzoo_layers::Inputs::new(&b.inputs, 3, 2))
        .unwrap()
        .predictions;
    let s_mean = mean.step(&b).unwrap();
    let s_sum = sum.step(&b).unwrap();
    let want = reference(
        &logits_before,
        &[2, 0],
        3,
        opts.weight.as_deref(),
        0.1,
        false,
    );
    assert!(
        (s_mean.loss - want).abs() < 1e-13,
        "{} vs {want}",
        s_mean.loss
    );
    // The targets' weights: 2.0 + 1.0.
    assert!((s_sum.loss - 3.0 * want).abs() < 1e-12);
    let (a, c) = (mean.model().param_groups(), sum.model().param_groups());
    for (ga, gc) in a.iter().zip(&c) {
        for (pa, pc) in ga.params.iter().zip(gc.params.iter()) {
            for (x, y) in pa.data().iter().zip(pc.data()) {
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                    "{}: {x} vs {y}",
                    pa.name()
                );
            }
        }
    }
}
