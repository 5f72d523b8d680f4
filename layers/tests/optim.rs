//! The optimizers against scalar recurrences written from PyTorch's formulas (bit for bit, in f32
//! and f64), a few hand-computed values, convergence on a quadratic, clipping, save/resume bit for
//! bit, layout and state errors, hyper-parameter checks, and no allocation after the first step.

// The references spell PyTorch's formulas out as `x = x + ...`, the way the Python reads.
#![allow(clippy::assign_op_pattern)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rnnzoo_cell::{Param, Params, Real};
use rnnzoo_layers::optim::{
    Adam, AdamW, OptimError, Optimizer, OptimizerState, ParamGroupRule, RmsProp, Sgd,
    clip_grad_norm, clip_grad_value, grad_norm,
};

// ------------------------------------------------------------------------------------------------
// Counting allocations per thread (tests run on several threads).

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// ------------------------------------------------------------------------------------------------
// A tiny model: two groups, three tensors, 11 values; gradients from a deterministic function.

fn t<T: Real>(v: f64) -> T {
    T::from_f64_lossy(v)
}

fn model<T: Real>() -> Vec<Params<T>> {
    let mut j = 0usize;
    let mut tensor = |name: &str, shape: &[usize]| {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|_| {
                let v = 0.8 * (1.3 * j as f64 + 0.4).sin() + 0.05 * j as f64;
                j += 1;
                t(v)
            })
            .collect();
        Param::from_vec(name, shape, 1, data).unwrap()
    };
    let mut layer = Params::new();
    layer.push(tensor("weight", &[2, 3])).unwrap();
    layer.push(tensor("bias", &[2])).unwrap();
    let mut head = Params::new();
    head.push(tensor("head", &[3])).unwrap();
    vec![layer, head]
}

/// The gradient of value `j` at step `s` when it is `p`: a pull towards a target plus a wobble
/// that shrinks over the steps (so AMSGrad's maximum differs from the current second moment), all
/// in `T`.
fn grad_of<T: Real>(p: T, j: usize, s: usize) -> T {
    let a: T = t(0.5 + 0.25 * (j % 4) as f64);
    let c: T = t(0.3 * (j as f64).cos());
    let wobble: T = t((0.7 * s as f64 + j as f64).sin() * 2.0 / (1.0 + s as f64));
    a * (p - c) + wobble
}

fn flat<T: Real>(model: &[Params<T>]) -> Vec<T> {
    model
        .iter()
        .flat_map(|g| g.iter())
        .flat_map(|p| p.data().iter().copied())
        .collect()
}

fn fill_grads<T: Real>(model: &[Params<T>], grads: &mut [Params<T>], s: usize) {
    let mut j = 0;
    for (mg, gg) in model.iter().zip(grads.iter_mut()) {
        for (p, g) in mg.iter().zip(gg.iter_mut()) {
            for (pv, gv) in p.data().iter().zip(g.data_mut()) {
                *gv = grad_of(*pv, j, s);
                j += 1;
            }
        }
    }
}

fn step_once<T: Real>(
    opt: &mut dyn Optimizer<T>,
    model: &mut [Params<T>],
    grads: &[Params<T>],
) -> Result<(), OptimError> {
    let mut p: Vec<&mut Params<T>> = model.iter_mut().collect();
    let g: Vec<&Params<T>> = grads.iter().collect();
    opt.step(&mut p, &g)
}

/// Runs steps `range` (the step index feeds the gradient function).
fn train<T: Real>(
    opt: &mut dyn Optimizer<T>,
    model: &mut [Params<T>],
    range: std::ops::Range<usize>,
) {
    let mut grads: Vec<Params<T>> = model.iter().map(Params::zeros_like).collect();
    for s in range {
        fill_grads(model, &mut grads, s);
        step_once(opt, model, &grads).unwrap();
    }
}

fn same_bits<T: Real>(a: T, b: T) -> bool {
    a.to_f64_lossless().to_bits() == b.to_f64_lossless().to_bits()
}

const STEPS: usize = 6;

/// Runs `opt` for `STEPS` steps on the model and compares every value, bit for bit, with
/// `reference(initial value, j, steps)`.
fn check_against<T: Real>(
    what: &str,
    mut opt: impl Optimizer<T>,
    reference: impl Fn(T, usize, usize) -> T,
) {
    let mut m = model::<T>();
    let p0 = flat(&m);
    train(&mut opt, &mut m, 0..STEPS);
    let got = flat(&m);
    assert_eq!(opt.steps(), STEPS as u64);
    for (j, (&g, &p)) in got.iter().zip(&p0).enumerate() {
        let want = reference(p, j, STEPS);
        assert!(
            same_bits(g, want),
            "{what} ({}) value {j}: got {g:?}, PyTorch's recurrence gives {want:?}",
            T::NAME
        );
        assert!(!same_bits(g, p), "{what}: value {j} did not move");
    }
}

// ------------------------------------------------------------------------------------------------
// Scalar references, one value at a time, written from torch/optim/*.py (_single_tensor_*), with
// every Python float rounded to the tensor's dtype where PyTorch rounds it.

/// torch.lerp with a scalar weight (ATen/native/Lerp.h).
fn torch_lerp<T: Real>(start: T, end: T, w: T) -> T {
    if w.abs() < t(0.5) {
        start + w * (end - start)
    } else {
        end - (end - start) * (T::one() - w)
    }
}

#[derive(Clone, Copy)]
struct SgdCfg {
    lr: f64,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    wd: f64,
}

fn ref_sgd<T: Real>(mut p: T, j: usize, n: usize, c: SgdCfg) -> T {
    let mut buf: Option<T> = None;
    for s in 0..n {
        let mut g = grad_of(p, j, s);
        if c.wd != 0.0 {
            g = g + t::<T>(c.wd) * p; // grad.add(param, alpha=weight_decay)
        }
        if c.momentum != 0.0 {
            let b = match buf {
                None => g, // torch.clone(grad)
                Some(b) => b * t(c.momentum) + t::<T>(1.0 - c.dampening) * g,
            };
            buf = Some(b);
            g = if c.nesterov {
                g + t::<T>(c.momentum) * b
            } else {
                b
            };
        }
        p = p + t::<T>(-c.lr) * g; // param.add_(grad, alpha=-lr)
    }
    p
}

#[derive(Clone, Copy)]
struct AdamCfg {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    wd: f64,
    amsgrad: bool,
    decoupled: bool,
}

fn ref_adam<T: Real>(mut p: T, j: usize, n: usize, c: AdamCfg) -> T {
    let (mut m, mut v, mut vmax) = (T::zero(), T::zero(), T::zero());
    for s in 0..n {
        let step = (s + 1) as f64;
        let mut g = grad_of(p, j, s);
        if c.wd != 0.0 {
            if c.decoupled {
                p = p * t(1.0 - c.lr * c.wd); // param.mul_(1 - lr * weight_decay)
            } else {
                g = g + t::<T>(c.wd) * p;
            }
        }
        m = torch_lerp(m, g, t(1.0 - c.beta1));
        v = v * t(c.beta2) + t::<T>(1.0 - c.beta2) * g * g; // addcmul: self + value * t1 * t2
        let bias_correction1 = 1.0 - c.beta1.powf(step);
        let bias_correction2 = 1.0 - c.beta2.powf(step);
        let step_size = c.lr / bias_correction1;
        let bias_correction2_sqrt = bias_correction2.sqrt();
        let second = if c.amsgrad {
            vmax = if v > vmax { v } else { vmax };
            vmax
        } else {
            v
        };
        let denom = second.sqrt() / t(bias_correction2_sqrt) + t(c.eps);
        p = p + t::<T>(-step_size) * m / denom; // addcdiv: self + value * t1 / t2
    }
    p
}

#[derive(Clone, Copy)]
struct RmsCfg {
    lr: f64,
    alpha: f64,
    eps: f64,
    wd: f64,
    momentum: f64,
    centered: bool,
}

fn ref_rmsprop<T: Real>(mut p: T, j: usize, n: usize, c: RmsCfg) -> T {
    let (mut sq, mut ga, mut buf) = (T::zero(), T::zero(), T::zero());
    for s in 0..n {
        let mut g = grad_of(p, j, s);
        if c.wd != 0.0 {
            g = g + t::<T>(c.wd) * p;
        }
        sq = sq * t(c.alpha) + t::<T>(1.0 - c.alpha) * g * g;
        let mut avg = if c.centered {
            ga = torch_lerp(ga, g, t(1.0 - c.alpha));
            (sq + t::<T>(-1.0) * ga * ga).sqrt() // square_avg.addcmul(grad_avg, grad_avg, value=-1)
        } else {
            sq.sqrt()
        };
        avg = avg + t(c.eps);
        if c.momentum > 0.0 {
            buf = buf * t(c.momentum) + T::one() * g / avg; // addcdiv_(grad, avg)
            p = p + t::<T>(-c.lr) * buf;
        } else {
            p = p + t::<T>(-c.lr) * g / avg;
        }
    }
    p
}

// ------------------------------------------------------------------------------------------------
// Against the references.

fn sgd_cases<T: Real>() {
    let cases = [
        SgdCfg {
            lr: 0.1,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            wd: 0.0,
        },
        SgdCfg {
            lr: 0.05,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            wd: 0.2,
        },
        SgdCfg {
            lr: 0.05,
            momentum: 0.9,
            dampening: 0.1,
            nesterov: false,
            wd: 0.01,
        },
        SgdCfg {
            lr: 0.05,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: true,
            wd: 0.1,
        },
        SgdCfg {
            lr: 0.1,
            momentum: 0.5,
            dampening: 0.0,
            nesterov: true,
            wd: 0.0,
        },
    ];
    for c in cases {
        let opt = Sgd::<T>::new(c.lr)
            .momentum(c.momentum)
            .dampening(c.dampening)
            .nesterov(c.nesterov)
            .weight_decay(c.wd);
        let what = format!(
            "SGD momentum {} dampening {} nesterov {} wd {}",
            c.momentum, c.dampening, c.nesterov, c.wd
        );
        check_against(&what, opt, |p, j, n| ref_sgd(p, j, n, c));
    }
}

fn adam_cases<T: Real>() {
    let base = AdamCfg {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        wd: 0.0,
        amsgrad: false,
        decoupled: false,
    };
    let cases = [
        base,
        AdamCfg {
            amsgrad: true,
            ..base
        },
        AdamCfg {
            lr: 0.02,
            beta1: 0.8,
            beta2: 0.99,
            eps: 1e-6,
            wd: 0.1,
            amsgrad: true,
            ..base
        },
        AdamCfg {
            beta1: 0.3,
            beta2: 0.4,
            wd: 0.05,
            ..base
        }, // lerp's other branch (weight 0.7)
        AdamCfg {
            wd: 0.01,
            decoupled: true,
            ..base
        },
        AdamCfg {
            lr: 0.02,
            wd: 0.2,
            amsgrad: true,
            decoupled: true,
            ..base
        },
    ];
    for c in cases {
        let what = format!(
            "{} betas ({}, {}) eps {} wd {} amsgrad {}",
            if c.decoupled { "AdamW" } else { "Adam" },
            c.beta1,
            c.beta2,
            c.eps,
            c.wd,
            c.amsgrad
        );
        let reference = |p, j, n| ref_adam(p, j, n, c);
        if c.decoupled {
            let opt = AdamW::<T>::new(c.lr)
                .betas(c.beta1, c.beta2)
                .eps(c.eps)
                .weight_decay(c.wd)
                .amsgrad(c.amsgrad);
            check_against(&what, opt, reference);
        } else {
            let opt = Adam::<T>::new(c.lr)
                .betas(c.beta1, c.beta2)
                .eps(c.eps)
                .weight_decay(c.wd)
                .amsgrad(c.amsgrad);
            check_against(&what, opt, reference);
        }
    }
}

fn rmsprop_cases<T: Real>() {
    let base = RmsCfg {
        lr: 0.01,
        alpha: 0.99,
        eps: 1e-8,
        wd: 0.0,
        momentum: 0.0,
        centered: false,
    };
    let cases = [
        base,
        RmsCfg {
            centered: true,
            ..base
        },
        RmsCfg {
            momentum: 0.5,
            wd: 0.05,
            ..base
        },
        RmsCfg {
            lr: 0.005,
            alpha: 0.9,
            momentum: 0.9,
            wd: 0.01,
            centered: true,
            ..base
        },
        RmsCfg {
            alpha: 0.3,
            centered: true,
            eps: 1e-4,
            ..base
        }, // lerp's other branch
    ];
    for c in cases {
        let opt = RmsProp::<T>::new(c.lr)
            .alpha(c.alpha)
            .eps(c.eps)
            .weight_decay(c.wd)
            .momentum(c.momentum)
            .centered(c.centered);
        let what = format!(
            "RMSprop alpha {} wd {} momentum {} centered {}",
            c.alpha, c.wd, c.momentum, c.centered
        );
        check_against(&what, opt, |p, j, n| ref_rmsprop(p, j, n, c));
    }
}

#[test]
fn sgd_matches_pytorch_recurrence() {
    sgd_cases::<f32>();
    sgd_cases::<f64>();
}

#[test]
fn adam_and_adamw_match_pytorch_recurrence() {
    adam_cases::<f32>();
    adam_cases::<f64>();
}

#[test]
fn rmsprop_matches_pytorch_recurrence() {
    rmsprop_cases::<f32>();
    rmsprop_cases::<f64>();
}

// ------------------------------------------------------------------------------------------------
// Parameter groups: PyTorch's `param_groups`, each group its own recurrence.
//
// ```python
// torch.optim.AdamW([{"params": [layer.weight]},
//                    {"params": [layer.bias], "lr": 2 * lr, "weight_decay": 0.0},
//                    {"params": [head], "weight_decay": 0.3}], lr=lr, weight_decay=wd)
// ```

/// The test model's groups: values 0..6 are `weight`, 6..8 `bias`, 8..11 `head`.
fn groups() -> Vec<ParamGroupRule> {
    vec![
        ParamGroupRule::new("bias").lr_scale(2.0).weight_decay(0.0),
        ParamGroupRule::new("head").weight_decay(0.3),
    ]
}

/// `(lr, weight decay)` of value `j` under [`groups`], the optimizer's being `(lr, wd)`.
fn group_of(j: usize, lr: f64, wd: f64) -> (f64, f64) {
    match j {
        6..8 => (lr * 2.0, 0.0),
        8.. => (lr, 0.3),
        _ => (lr, wd),
    }
}

fn grouped<T: Real, O: Optimizer<T>>(mut opt: O) -> O {
    opt.set_groups(groups()).unwrap();
    opt
}

fn group_cases<T: Real>() {
    let sgd = SgdCfg {
        lr: 0.05,
        momentum: 0.9,
        dampening: 0.1,
        nesterov: false,
        wd: 0.01,
    };
    check_against(
        "SGD with groups",
        grouped(
            Sgd::<T>::new(sgd.lr)
                .momentum(0.9)
                .dampening(0.1)
                .weight_decay(0.01),
        ),
        |p, j, n| {
            let (lr, wd) = group_of(j, sgd.lr, sgd.wd);
            ref_sgd(p, j, n, SgdCfg { lr, wd, ..sgd })
        },
    );
    for decoupled in [false, true] {
        let adam = AdamCfg {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            wd: 0.05,
            amsgrad: false,
            decoupled,
        };
        let reference = |p, j, n| {
            let (lr, wd) = group_of(j, adam.lr, adam.wd);
            ref_adam(p, j, n, AdamCfg { lr, wd, ..adam })
        };
        if decoupled {
            check_against(
                "AdamW with groups",
                grouped(AdamW::<T>::new(0.01).weight_decay(0.05)),
                reference,
            );
        } else {
            check_against(
                "Adam with groups",
                grouped(Adam::<T>::new(0.01).weight_decay(0.05)),
                reference,
            );
        }
    }
    let rms = RmsCfg {
        lr: 0.01,
        alpha: 0.99,
        eps: 1e-8,
        wd: 0.02,
        momentum: 0.5,
        centered: true,
    };
    check_against(
        "RMSprop with groups",
        grouped(
            RmsProp::<T>::new(0.01)
                .weight_decay(0.02)
                .momentum(0.5)
                .centered(true),
        ),
        |p, j, n| {
            let (lr, wd) = group_of(j, rms.lr, rms.wd);
            ref_rmsprop(p, j, n, RmsCfg { lr, wd, ..rms })
        },
    );
}

#[test]
fn parameter_groups_follow_each_groups_pytorch_recurrence() {
    group_cases::<f64>();
    group_cases::<f32>();
}

#[test]
fn parameter_groups_are_saved_checked_and_scaled_by_the_schedule() {
    // Saved with the state: a fresh optimizer loaded mid-way continues bit for bit.
    let mut whole = grouped(AdamW::<f64>::new(0.01));
    let mut m = model::<f64>();
    train(&mut whole, &mut m, 0..STEPS);
    let mut first = grouped(AdamW::<f64>::new(0.01));
    let mut m2 = model::<f64>();
    train(&mut first, &mut m2, 0..3);
    let mut second = AdamW::<f64>::new(0.01);
    second.load_state(&first.state()).unwrap();
    assert_eq!(second.groups(), groups().as_slice());
    train(&mut second, &mut m2, 3..STEPS);
    assert!(
        flat(&m)
            .iter()
            .zip(flat(&m2))
            .all(|(a, b)| same_bits(*a, b))
    );
    // Bad groups are refused and change nothing.
    let mut sgd = Sgd::<f64>::new(0.1);
    for bad in [
        ParamGroupRule::new("bias").lr_scale(0.0),
        ParamGroupRule::new("bias").lr_scale(f64::NAN),
        ParamGroupRule::new("bias").weight_decay(-1.0),
    ] {
        assert!(matches!(
            sgd.set_groups(vec![bad]),
            Err(OptimError::HyperParameter { .. })
        ));
    }
    assert!(sgd.groups().is_empty());
    // A schedule sets the optimizer's rate; a group's follows it at its scale.
    let mut sgd = grouped(Sgd::<f64>::new(0.1));
    sgd.set_lr(0.05);
    let mut p = model::<f64>();
    let before = flat(&p);
    let mut g: Vec<Params<f64>> = p.iter().map(Params::zeros_like).collect();
    for gg in g.iter_mut() {
        for t in gg.iter_mut() {
            t.data_mut().fill(1.0);
        }
    }
    step_once(&mut sgd, &mut p, &g).unwrap();
    let after = flat(&p);
    // weight: the optimizer's rate; bias: twice it (a unit gradient, no weight decay).
    assert!((before[0] - after[0] - 0.05).abs() < 1e-15);
    assert!((before[6] - after[6] - 0.1).abs() < 1e-15);
}

#[test]
fn f32_runs_in_f32() {
    // The same run in f32 and f64 differs: the update is computed in the parameters' precision.
    let c = AdamCfg {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        wd: 0.0,
        amsgrad: false,
        decoupled: false,
    };
    let mut m32 = model::<f32>();
    let mut m64 = model::<f64>();
    train(&mut Adam::new(c.lr), &mut m32, 0..STEPS);
    train(&mut Adam::new(c.lr), &mut m64, 0..STEPS);
    let (a, b) = (flat(&m32), flat(&m64));
    assert!(a.iter().zip(&b).any(|(&x, &y)| x as f64 != y));
    assert!(a.iter().zip(&b).all(|(&x, &y)| (x as f64 - y).abs() < 1e-5));
}

// ------------------------------------------------------------------------------------------------
// Hand-computed values on one scalar, with constant gradients.

fn scalar<T: Real>(v: f64) -> Params<T> {
    let mut p = Params::new();
    p.push(Param::from_vec("w", &[1], 1, vec![t(v)]).unwrap())
        .unwrap();
    p
}

/// Steps `opt` `n` times on one scalar starting at `p0` with the constant gradient `g`.
fn constant_grad(opt: &mut dyn Optimizer<f64>, p0: f64, g: f64, n: usize) -> f64 {
    let mut w = scalar::<f64>(p0);
    let gr = scalar::<f64>(g);
    for _ in 0..n {
        opt.step(&mut [&mut w], &[&gr]).unwrap();
    }
    w.at(0).data()[0]
}

#[test]
fn hand_computed_values() {
    let close = |got: f64, want: f64, tol: f64, what: &str| {
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got}, expected {want}"
        );
    };
    // SGD, lr 0.1: 1 - 0.1 * 0.5.
    close(
        constant_grad(&mut Sgd::new(0.1), 1.0, 0.5, 1),
        0.95,
        1e-15,
        "sgd",
    );
    // Momentum 0.9: buf = 1 then 1.9; w = 1 - 0.1, then 0.9 - 0.19.
    close(
        constant_grad(&mut Sgd::new(0.1).momentum(0.9), 1.0, 1.0, 2),
        0.71,
        1e-15,
        "momentum",
    );
    // Dampening does not touch the first step (buf = g), only the next: buf = 0.9 + 0.5 = 1.4.
    close(
        constant_grad(&mut Sgd::new(0.1).momentum(0.9).dampening(0.5), 1.0, 1.0, 2),
        1.0 - 0.1 - 0.14,
        1e-15,
        "dampening",
    );
    // Nesterov: d = 1 + 0.9 * 1 = 1.9, w = 0.81; then buf = 1.9, d = 1 + 0.9 * 1.9 = 2.71.
    close(
        constant_grad(&mut Sgd::new(0.1).momentum(0.9).nesterov(true), 1.0, 1.0, 2),
        0.539,
        1e-15,
        "nesterov",
    );
    // Weight decay: g = 0.5 + 0.1 * 1.
    close(
        constant_grad(&mut Sgd::new(0.1).weight_decay(0.1), 1.0, 0.5, 1),
        0.94,
        1e-15,
        "sgd wd",
    );

    // Adam with a constant gradient: the bias corrections make exp_avg / sqrt(exp_avg_sq) exactly
    // g / |g| at every step, so each step moves lr * |g| / (|g| + eps).
    let per_step = 0.01 * 0.5 / (0.5 + 1e-8);
    close(
        constant_grad(&mut Adam::new(0.01), 1.0, 0.5, 3),
        1.0 - 3.0 * per_step,
        1e-12,
        "adam",
    );
    close(
        constant_grad(&mut Adam::new(0.01).amsgrad(true), 1.0, 0.5, 3),
        1.0 - 3.0 * per_step,
        1e-12,
        "amsgrad",
    );
    close(
        constant_grad(&mut Adam::new(0.01), 1.0, -2.0, 1),
        1.01,
        1e-9,
        "adam sign",
    );
    // Adam's L2 decay enters the gradient: g = 0 + 1 * 1, so the first step is still lr.
    close(
        constant_grad(&mut Adam::new(0.01).weight_decay(1.0), 1.0, 0.0, 1),
        0.99,
        1e-9,
        "adam wd",
    );
    // AdamW with a zero gradient: only the decoupled decay acts.
    close(
        constant_grad(&mut AdamW::new(0.1).weight_decay(0.5), 2.0, 0.0, 2),
        2.0 * 0.95 * 0.95,
        1e-15,
        "adamw decay",
    );
    // PyTorch's default AdamW weight decay is 0.01: w * (1 - 1e-3 * 0.01) then Adam's lr step.
    close(
        constant_grad(&mut AdamW::new(1e-3), 1.0, 0.5, 1),
        1.0 * (1.0 - 1e-5) - 1e-3 * 0.5 / (0.5 + 1e-8),
        1e-12,
        "adamw default",
    );

    // RMSprop: square_avg = 0.01 g^2, so the first step is lr * g / (0.1 |g| + eps), ten lr.
    close(
        constant_grad(&mut RmsProp::new(0.01), 1.0, 2.0, 1),
        0.9,
        1e-8,
        "rmsprop",
    );
    // Centered: grad_avg = 0.01 g, variance 0.01 g^2 - 1e-4 g^2 = 0.0099 g^2.
    close(
        constant_grad(&mut RmsProp::new(0.01).centered(true), 1.0, 2.0, 1),
        1.0 - 0.01 / 0.0099f64.sqrt(),
        1e-8,
        "centered",
    );
    // Momentum: buf starts at 0 (not at the gradient), so step one is the plain one; step two
    // adds 0.9 of it to the next: square_avg = 0.0199 g^2.
    let buf1 = 2.0 / (0.1 * 2.0 + 1e-8);
    let buf2 = 0.9 * buf1 + 2.0 / (0.0199f64.sqrt() * 2.0 + 1e-8);
    let (first, second) = (0.01 * buf1, 0.01 * buf2);
    close(
        constant_grad(&mut RmsProp::new(0.01).momentum(0.9), 1.0, 2.0, 2),
        1.0 - first - second,
        1e-12,
        "rmsprop momentum",
    );
}

// ------------------------------------------------------------------------------------------------
// Convergence on a quadratic.

/// Minimises sum_j a_j (w_j - c_j)^2 / 2 from the test model; returns the final loss over the
/// initial one.
fn quadratic<T: Real>(opt: &mut dyn Optimizer<T>, steps: usize) -> f64 {
    let mut m = model::<T>();
    let mut grads: Vec<Params<T>> = m.iter().map(Params::zeros_like).collect();
    let a = |j: usize| 0.5 + 0.5 * (j % 3) as f64;
    let c = |j: usize| (j as f64 * 0.9).cos();
    let loss = |m: &[Params<T>]| {
        flat(m)
            .iter()
            .enumerate()
            .map(|(j, w)| 0.5 * a(j) * (w.to_f64_lossless() - c(j)).powi(2))
            .sum::<f64>()
    };
    let initial = loss(&m);
    for _ in 0..steps {
        let mut j = 0;
        for (mg, gg) in m.iter().zip(grads.iter_mut()) {
            for (p, g) in mg.iter().zip(gg.iter_mut()) {
                for (w, d) in p.data().iter().zip(g.data_mut()) {
                    *d = t::<T>(a(j)) * (*w - t(c(j)));
                    j += 1;
                }
            }
        }
        step_once(opt, &mut m, &grads).unwrap();
    }
    loss(&m) / initial
}

fn converges<T: Real>() {
    let cases: Vec<(&str, Box<dyn Optimizer<T>>, f64)> = vec![
        ("sgd", Box::new(Sgd::new(0.3)), 1e-9),
        ("sgd momentum", Box::new(Sgd::new(0.1).momentum(0.9)), 1e-9),
        (
            "sgd nesterov",
            Box::new(Sgd::new(0.1).momentum(0.9).nesterov(true)),
            1e-9,
        ),
        ("adam", Box::new(Adam::new(0.05)), 1e-6),
        (
            "adam amsgrad",
            Box::new(Adam::new(0.05).amsgrad(true)),
            1e-6,
        ),
        ("adamw", Box::new(AdamW::new(0.05).weight_decay(1e-4)), 1e-4),
        ("rmsprop", Box::new(RmsProp::new(0.01)), 1e-4),
        (
            "rmsprop centered momentum",
            Box::new(RmsProp::new(0.005).centered(true).momentum(0.5)),
            1e-4,
        ),
    ];
    for (what, mut opt, tol) in cases {
        let ratio = quadratic(opt.as_mut(), 1500);
        assert!(
            ratio < tol,
            "{what} ({}): loss ratio {ratio:e} after 1500 steps",
            T::NAME
        );
    }
}

#[test]
fn every_optimizer_converges_on_a_quadratic() {
    converges::<f32>();
    converges::<f64>();
}

// ------------------------------------------------------------------------------------------------
// Clipping.

fn vector<T: Real>(name: &str, v: &[f64]) -> Params<T> {
    let mut p = Params::new();
    let data = v.iter().map(|&x| t(x)).collect();
    p.push(Param::from_vec(name, &[v.len()], 1, data).unwrap())
        .unwrap();
    p
}

fn clip_norm_case<T: Real>() {
    // Norm 13 over two groups: sqrt(3^2 + 4^2 + 12^2).
    let (mut a, mut b) = (vector::<T>("w", &[3.0, -4.0]), vector::<T>("b", &[12.0]));
    let before = (flat(&[a.clone()]), flat(&[b.clone()]));
    assert_eq!(clip_grad_norm(&mut [&mut a, &mut b], 13.5), Ok(13.0));
    assert_eq!(
        (flat(&[a.clone()]), flat(&[b.clone()])),
        before,
        "under max_norm: untouched"
    );
    assert_eq!(
        clip_grad_norm(&mut [&mut a, &mut b], f64::INFINITY),
        Ok(13.0)
    );
    assert_eq!((flat(&[a.clone()]), flat(&[b.clone()])), before);

    assert_eq!(
        clip_grad_norm(&mut [&mut a, &mut b], 6.5),
        Ok(13.0),
        "returns the norm before"
    );
    let after = grad_norm(&[&a, &b]);
    assert!(
        (after - 6.5).abs() < 1e-5,
        "{}: clipped to {after}",
        T::NAME
    );
    let coef = 6.5 / (13.0 + 1e-6);
    assert_eq!(a.at(0).data()[0], t::<T>(3.0) * t(coef));
    assert_eq!(b.at(0).data()[0], t::<T>(12.0) * t(coef));

    // Zero max_norm zeroes the gradients.
    assert!((clip_grad_norm(&mut [&mut a, &mut b], 0.0).unwrap() - 6.5).abs() < 1e-5);
    assert_eq!(grad_norm(&[&a, &b]), 0.0);

    // Non-finite: returned, nothing touched.
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let (mut a, mut b) = (vector::<T>("w", &[3.0, bad]), vector::<T>("b", &[12.0]));
        let n = clip_grad_norm(&mut [&mut a, &mut b], 1.0).unwrap();
        assert!(!n.is_finite());
        assert_eq!(n.is_nan(), bad.is_nan());
        assert_eq!(a.at(0).data()[0], t(3.0));
        assert_eq!(b.at(0).data()[0], t(12.0));
    }
}

#[test]
fn clip_grad_norm_returns_the_norm_before_and_clips_to_max() {
    clip_norm_case::<f32>();
    clip_norm_case::<f64>();
    // The norm is accumulated in f64: f32 gradients whose squares overflow f32 still have a norm.
    let mut big = vector::<f32>("w", &[3e30, 4e30]);
    let n = clip_grad_norm(&mut [&mut big], 1.0).unwrap();
    assert!((n - 5e30).abs() / 5e30 < 1e-6, "{n}");
    assert!((grad_norm(&[&big]) - 1.0).abs() < 1e-5);
    // An empty model has norm zero.
    assert_eq!(clip_grad_norm::<f64>(&mut [], 1.0), Ok(0.0));
}

#[test]
fn clip_grad_value_clamps() {
    let mut a = vector::<f32>("w", &[-3.0, 0.5, 2.0, -0.25, f64::NAN]);
    let mut b = vector::<f32>("b", &[0.3, -0.31]);
    clip_grad_value(&mut [&mut a, &mut b], 0.3).unwrap();
    let v = flat(&[a, b]);
    assert_eq!(&v[..4], &[-0.3, 0.3, 0.3, -0.25]);
    assert!(v[4].is_nan());
    assert_eq!(&v[5..], &[0.3, -0.3]);
}

#[test]
fn clip_grad_norm_refuses_a_negative_or_nan_max_and_touches_nothing() {
    for bad in [-1.0, -f64::MIN_POSITIVE, f64::NAN, f64::NEG_INFINITY] {
        let mut a = vector::<f64>("w", &[3.0, 4.0]);
        match clip_grad_norm(&mut [&mut a], bad) {
            Err(OptimError::Clip {
                what: "clip_norm",
                value,
            }) => {
                assert!(value.to_bits() == bad.to_bits(), "{value} for {bad}")
            }
            other => panic!("max_norm {bad}: {other:?}"),
        }
        assert_eq!(a.at(0).data(), &[3.0, 4.0]);
    }
}

#[test]
fn clip_grad_value_refuses_a_negative_or_nan_clip_and_touches_nothing() {
    for bad in [-1.0, f64::NAN] {
        let mut a = vector::<f64>("w", &[3.0, -4.0]);
        assert!(matches!(
            clip_grad_value(&mut [&mut a], bad),
            Err(OptimError::Clip {
                what: "clip_value",
                ..
            })
        ));
        assert_eq!(a.at(0).data(), &[3.0, -4.0]);
    }
    let mut a = vector::<f64>("w", &[3.0, -4.0]);
    assert_eq!(clip_grad_value(&mut [&mut a], 0.0), Ok(()));
    assert_eq!(a.at(0).data(), &[0.0, 0.0]);
}

// ------------------------------------------------------------------------------------------------
// Save and resume.

type Maker<T> = fn() -> Box<dyn Optimizer<T>>;

fn makers<T: Real>() -> Vec<(&'static str, Maker<T>)> {
    vec![
        ("sgd", || Box::new(Sgd::new(0.05))),
        ("sgd momentum", || {
            Box::new(
                Sgd::new(0.05)
                    .momentum(0.9)
                    .dampening(0.2)
                    .weight_decay(0.01),
            )
        }),
        ("sgd nesterov", || {
            Box::new(Sgd::new(0.05).momentum(0.9).nesterov(true))
        }),
        ("adam", || Box::new(Adam::new(0.01))),
        ("adam amsgrad wd", || {
            Box::new(Adam::new(0.01).amsgrad(true).weight_decay(0.1))
        }),
        ("adamw", || Box::new(AdamW::new(0.01))),
        ("adamw amsgrad", || {
            Box::new(AdamW::new(0.02).amsgrad(true).betas(0.8, 0.99))
        }),
        ("rmsprop", || Box::new(RmsProp::new(0.01))),
        ("rmsprop centered momentum wd", || {
            Box::new(
                RmsProp::new(0.01)
                    .centered(true)
                    .momentum(0.5)
                    .weight_decay(0.01),
            )
        }),
    ]
}

fn round_trip<T: Real>() {
    let (n, m) = (3, 4);
    for (what, make) in makers::<T>() {
        let mut straight = make();
        let mut model_a = model::<T>();
        train(straight.as_mut(), &mut model_a, 0..n + m);

        let mut first = make();
        let mut model_b = model::<T>();
        train(first.as_mut(), &mut model_b, 0..n);
        let saved: OptimizerState = first.state();
        assert_eq!(saved.steps, n as u64);
        drop(first);

        let mut resumed = make();
        resumed.set_lr(123.0); // load_state restores the saved learning rate
        resumed.load_state(&saved).unwrap();
        assert_eq!(resumed.state(), saved, "{what}: load then state");
        train(resumed.as_mut(), &mut model_b, n..n + m);

        let (a, b) = (flat(&model_a), flat(&model_b));
        assert!(
            a.iter().zip(&b).all(|(&x, &y)| same_bits(x, y)),
            "{what} ({}): resumed run differs:\n{a:?}\n{b:?}",
            T::NAME
        );
        assert_eq!(straight.state(), resumed.state(), "{what}");
        assert_eq!(resumed.steps(), (n + m) as u64);
    }
}

#[test]
fn state_round_trip_resumes_bit_for_bit() {
    round_trip::<f32>();
    round_trip::<f64>();
}

#[test]
fn state_contents() {
    let mut opt = Adam::<f32>::new(0.01).amsgrad(true);
    let fresh = opt.state();
    assert_eq!((fresh.kind(), fresh.steps), ("Adam", 0));
    assert!(fresh.layout.is_none() && fresh.buffers.is_empty());

    let mut m = model::<f32>();
    train(&mut opt, &mut m, 0..2);
    let s = opt.state();
    let names: Vec<&str> = s.buffers.keys().map(String::as_str).collect();
    assert_eq!(names, ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]);
    let layout = s.layout.as_ref().unwrap();
    assert_eq!(layout.len(), 2);
    assert_eq!(layout[0][0].name, "weight");
    assert_eq!(layout[0][0].shape, [2, 3]);
    assert_eq!(layout[1][0].name, "head");
    let sizes: Vec<usize> = s.buffers["exp_avg"].iter().map(Vec::len).collect();
    assert_eq!(sizes, [6, 2, 3]);
    // A fresh state loads into a fresh optimizer.
    let mut other = Adam::<f32>::new(0.5);
    other.load_state(&fresh).unwrap();
    assert_eq!(other.lr(), 0.01);

    // Optional buffers appear when used.
    let mut sgd = Sgd::<f64>::new(0.1);
    let mut m = model::<f64>();
    train(&mut sgd, &mut m, 0..1);
    assert!(sgd.state().buffers.is_empty() && sgd.state().layout.is_some());
    let mut rms = RmsProp::<f64>::new(0.1).centered(true).momentum(0.1);
    train(&mut rms, &mut m, 0..1);
    let names: Vec<String> = rms.state().buffers.into_keys().collect();
    assert_eq!(names, ["grad_avg", "momentum_buffer", "square_avg"]);
}

#[test]
fn state_is_serde() {
    fn serde_both<S: serde::Serialize + serde::de::DeserializeOwned + Clone + PartialEq>() {}
    serde_both::<OptimizerState>();
}

// ------------------------------------------------------------------------------------------------
// Errors.

#[test]
fn layout_errors_change_nothing() {
    for (what, make) in makers::<f64>() {
        let mut opt = make();
        let mut m = model::<f64>();
        let mut grads: Vec<Params<f64>> = m.iter().map(Params::zeros_like).collect();
        fill_grads(&m, &mut grads, 0);

        // Not one gradient group per parameter group (even at the first step).
        {
            let mut p: Vec<&mut Params<f64>> = m.iter_mut().collect();
            let err = opt.step(&mut p, &[&grads[0]]).unwrap_err();
            assert_eq!(
                err,
                OptimError::GroupCount {
                    what: "grads",
                    expected: 2,
                    got: 1
                },
                "{what}"
            );
        }
        // A gradient group not laid out as its parameter group, at the first step.
        let wrong = vector::<f64>("head", &[0.0; 4]);
        {
            let mut p: Vec<&mut Params<f64>> = m.iter_mut().collect();
            let err = opt.step(&mut p, &[&grads[0], &wrong]).unwrap_err();
            assert!(
                matches!(
                    err,
                    OptimError::Layout {
                        what: "grads",
                        group: 1,
                        ..
                    }
                ),
                "{what}: {err}"
            );
            assert!(err.to_string().contains("head [4]") && err.to_string().contains("head [3]"));
        }
        assert_eq!(opt.steps(), 0, "{what}");
        assert!(
            opt.state().layout.is_none(),
            "{what}: a failed first step binds nothing"
        );

        step_once(opt.as_mut(), &mut m, &grads).unwrap();
        let values = flat(&m);
        let state = opt.state();

        // Fewer groups than at the first step.
        {
            let err = opt.step(&mut [&mut m[0]], &[&grads[0]]).unwrap_err();
            assert_eq!(
                err,
                OptimError::GroupCount {
                    what: "params",
                    expected: 2,
                    got: 1
                },
                "{what}"
            );
        }
        // Another model: a renamed tensor, then a reshaped one.
        let mut renamed = m.clone();
        renamed[1] = vector::<f64>("tail", &[1.0, 2.0, 3.0]);
        let renamed_grads: Vec<Params<f64>> = renamed.iter().map(Params::zeros_like).collect();
        let err = step_once(opt.as_mut(), &mut renamed, &renamed_grads).unwrap_err();
        assert!(
            matches!(
                err,
                OptimError::Layout {
                    what: "params",
                    group: 1,
                    ..
                }
            ),
            "{what}: {err}"
        );
        assert!(err.to_string().contains("tail"), "{err}");
        let mut reshaped = m.clone();
        reshaped[0] = Params::new();
        reshaped[0]
            .push(Param::zeros("weight", &[3, 2], 1).unwrap())
            .unwrap();
        reshaped[0]
            .push(Param::zeros("bias", &[2], 1).unwrap())
            .unwrap();
        let reshaped_grads: Vec<Params<f64>> = reshaped.iter().map(Params::zeros_like).collect();
        let err = step_once(opt.as_mut(), &mut reshaped, &reshaped_grads).unwrap_err();
        assert!(
            matches!(
                err,
                OptimError::Layout {
                    what: "params",
                    group: 0,
                    ..
                }
            ),
            "{what}: {err}"
        );
        // The right parameters with gradients of another layout.
        {
            let mut p: Vec<&mut Params<f64>> = m.iter_mut().collect();
            let err = opt
                .step(&mut p, &[&grads[0], &renamed_grads[1]])
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    OptimError::Layout {
                        what: "grads",
                        group: 1,
                        ..
                    }
                ),
                "{what}: {err}"
            );
        }

        assert_eq!(
            flat(&m),
            values,
            "{what}: a failed step changed the parameters"
        );
        assert_eq!(
            opt.state(),
            state,
            "{what}: a failed step changed the optimizer"
        );
        step_once(opt.as_mut(), &mut m, &grads).unwrap();
        assert_eq!(opt.steps(), 2);
    }
}

#[test]
fn load_state_errors_change_nothing() {
    let mut m = model::<f32>();
    let mut adam = Adam::<f32>::new(0.01).amsgrad(true);
    train(&mut adam, &mut m, 0..2);
    let good = adam.state();

    // Another kind.
    let err = AdamW::<f32>::new(0.01).load_state(&good).unwrap_err();
    assert_eq!(
        err,
        OptimError::StateKind {
            expected: "AdamW",
            got: "Adam"
        }
    );
    let err = Sgd::<f32>::new(0.01).load_state(&good).unwrap_err();
    assert_eq!(
        err,
        OptimError::StateKind {
            expected: "SGD",
            got: "Adam"
        }
    );
    let err = Adam::<f32>::new(0.01)
        .load_state(&RmsProp::<f32>::new(0.1).state())
        .unwrap_err();
    assert_eq!(
        err,
        OptimError::StateKind {
            expected: "Adam",
            got: "RMSprop"
        }
    );

    let refused = |state: &OptimizerState| {
        let mut fresh = Adam::<f32>::new(0.5);
        let before = fresh.state();
        let err = fresh.load_state(state).unwrap_err();
        assert_eq!(
            fresh.state(),
            before,
            "a refused state changed the optimizer"
        );
        err
    };
    let buffer_error = |err: OptimError, name: &str| match err {
        OptimError::StateBuffer { buffer, .. } => assert_eq!(buffer, name),
        other => panic!("expected a StateBuffer error on {name}, got {other:?}"),
    };

    // A tensor with a value short.
    let mut s = good.clone();
    s.buffers.get_mut("exp_avg_sq").unwrap()[2].pop();
    let err = refused(&s);
    assert!(
        err.to_string().contains("3 values for tensor 2 (head [3])"),
        "{err}"
    );
    buffer_error(err, "exp_avg_sq");
    // A tensor short.
    let mut s = good.clone();
    s.buffers.get_mut("max_exp_avg_sq").unwrap().pop();
    buffer_error(refused(&s), "max_exp_avg_sq");
    // A required buffer missing.
    let mut s = good.clone();
    s.buffers.remove("exp_avg");
    buffer_error(refused(&s), "exp_avg");
    // Another optimizer's buffer.
    let mut s = good.clone();
    s.buffers
        .insert("square_avg".into(), s.buffers["exp_avg"].clone());
    buffer_error(refused(&s), "square_avg");
    // A layout that does not match the buffers.
    let mut s = good.clone();
    s.layout.as_mut().unwrap()[1][0].shape = vec![4];
    buffer_error(refused(&s), "exp_avg");
    // Steps but no layout.
    let mut s = good.clone();
    s.layout = None;
    s.buffers.clear();
    assert!(matches!(refused(&s), OptimError::StateLayout { .. }));
    // Invalid hyper-parameters.
    let mut s = good.clone();
    if let rnnzoo_layers::optim::HyperParams::Adam(h) = &mut s.hyper {
        h.beta2 = 1.5;
    }
    assert!(matches!(
        refused(&s),
        OptimError::HyperParameter { name: "beta2", .. }
    ));

    // An optimizer already bound to another model refuses the state of this one.
    let mut other_model = vec![vector::<f32>("w", &[1.0, 2.0])];
    let mut bound = Adam::<f32>::new(0.01);
    let g = vec![vector::<f32>("w", &[0.1, 0.2])];
    step_once(&mut bound, &mut other_model, &g).unwrap();
    let before = bound.state();
    let err = bound.load_state(&good).unwrap_err();
    assert!(matches!(err, OptimError::StateLayout { .. }), "{err}");
    assert!(err.to_string().contains("w [2]"), "{err}");
    assert_eq!(bound.state(), before);
    // ... and its own state is fine.
    bound.load_state(&before).unwrap();
}

#[test]
fn invalid_hyper_parameters_are_refused() {
    fn refused<T: Real>(what: &str, name: &str, opt: &mut dyn Optimizer<T>) {
        let mut m = model::<T>();
        let mut grads: Vec<Params<T>> = m.iter().map(Params::zeros_like).collect();
        fill_grads(&m, &mut grads, 0);
        let before = flat(&m);
        match step_once(opt, &mut m, &grads) {
            Err(OptimError::HyperParameter { name: n, .. }) => assert_eq!(n, name, "{what}"),
            other => panic!("{what}: expected a HyperParameter error on {name}, got {other:?}"),
        }
        assert_eq!(flat(&m), before, "{what}");
        assert_eq!(opt.steps(), 0);
    }
    let cases: Vec<(&str, &str, Box<dyn Optimizer<f32>>)> = vec![
        ("sgd lr", "lr", Box::new(Sgd::new(-0.1))),
        ("sgd nan lr", "lr", Box::new(Sgd::new(f64::NAN))),
        (
            "sgd momentum",
            "momentum",
            Box::new(Sgd::new(0.1).momentum(-0.9)),
        ),
        (
            "sgd wd",
            "weight_decay",
            Box::new(Sgd::new(0.1).weight_decay(-1.0)),
        ),
        (
            "nesterov no momentum",
            "momentum",
            Box::new(Sgd::new(0.1).nesterov(true)),
        ),
        (
            "nesterov dampening",
            "dampening",
            Box::new(Sgd::new(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
        ),
        ("adam lr", "lr", Box::new(Adam::new(-1e-3))),
        (
            "adam beta1",
            "beta1",
            Box::new(Adam::new(1e-3).betas(1.0, 0.999)),
        ),
        (
            "adam beta1 neg",
            "beta1",
            Box::new(Adam::new(1e-3).betas(-0.1, 0.999)),
        ),
        (
            "adam beta2",
            "beta2",
            Box::new(Adam::new(1e-3).betas(0.9, 1.0)),
        ),
        ("adam eps", "eps", Box::new(Adam::new(1e-3).eps(-1e-8))),
        (
            "adam wd",
            "weight_decay",
            Box::new(Adam::new(1e-3).weight_decay(-0.1)),
        ),
        (
            "adamw wd",
            "weight_decay",
            Box::new(AdamW::new(1e-3).weight_decay(f64::INFINITY)),
        ),
        ("rmsprop lr", "lr", Box::new(RmsProp::new(-0.01))),
        (
            "rmsprop alpha",
            "alpha",
            Box::new(RmsProp::new(0.01).alpha(-0.1)),
        ),
        (
            "rmsprop alpha > 1",
            "alpha",
            Box::new(RmsProp::new(0.01).alpha(1.1)),
        ),
        ("rmsprop eps", "eps", Box::new(RmsProp::new(0.01).eps(-1.0))),
        (
            "rmsprop momentum",
            "momentum",
            Box::new(RmsProp::new(0.01).momentum(-0.5)),
        ),
        (
            "rmsprop wd",
            "weight_decay",
            Box::new(RmsProp::new(0.01).weight_decay(-0.5)),
        ),
    ];
    for (what, name, mut opt) in cases {
        refused::<f32>(what, name, opt.as_mut());
    }
    // A scheduler's negative learning rate is caught at the next step.
    let mut opt = Adam::<f32>::new(1e-3);
    opt.set_lr(-1.0);
    refused::<f32>("set_lr", "lr", &mut opt);
    // validate() reports the same, eagerly; valid settings pass.
    assert!(
        Sgd::<f64>::new(0.1)
            .momentum(0.9)
            .nesterov(true)
            .validate()
            .is_ok()
    );
    assert!(
        Adam::<f64>::new(0.0)
            .betas(0.0, 0.0)
            .eps(0.0)
            .validate()
            .is_ok()
    );
    assert!(RmsProp::<f64>::new(0.1).alpha(1.0).validate().is_ok());
    let err = AdamW::<f64>::new(1e-3)
        .betas(0.9, 1.0)
        .validate()
        .unwrap_err();
    assert_eq!(
        err,
        OptimError::HyperParameter {
            optimizer: "AdamW",
            name: "beta2",
            value: 1.0,
            expected: "0 <= beta2 < 1"
        }
    );
}

// ------------------------------------------------------------------------------------------------
// No allocation after the first step.

fn no_allocation<T: Real>() {
    let cases: Vec<(&str, Box<dyn Optimizer<T>>)> = vec![
        (
            "sgd",
            Box::new(
                Sgd::new(0.05)
                    .momentum(0.9)
                    .nesterov(true)
                    .weight_decay(0.1),
            ),
        ),
        (
            "adam",
            Box::new(Adam::new(0.01).amsgrad(true).weight_decay(0.1)),
        ),
        ("adamw", Box::new(AdamW::new(0.01).amsgrad(true))),
        (
            "rmsprop",
            Box::new(
                RmsProp::new(0.01)
                    .centered(true)
                    .momentum(0.5)
                    .weight_decay(0.1),
            ),
        ),
    ];
    for (what, mut opt) in cases {
        let mut m = model::<T>();
        let mut grads: Vec<Params<T>> = m.iter().map(Params::zeros_like).collect();
        fill_grads(&m, &mut grads, 0);
        let before = allocations();
        step_once(opt.as_mut(), &mut m, &grads).unwrap();
        assert!(
            allocations() > before,
            "{what}: the first step allocates the buffers"
        );

        let mut p: Vec<&mut Params<T>> = m.iter_mut().collect();
        let mut g: Vec<&mut Params<T>> = grads.iter_mut().collect();
        let before = allocations();
        for _ in 0..3 {
            clip_grad_norm(&mut g, 0.5).unwrap();
            clip_grad_value(&mut g, 0.1).unwrap();
            let gr: [&Params<T>; 2] = [&*g[0], &*g[1]];
            opt.step(&mut p, &gr).unwrap();
        }
        assert_eq!(
            allocations(),
            before,
            "{what} ({}): later steps allocated",
            T::NAME
        );
    }
}

#[test]
fn steps_after_the_first_allocate_nothing() {
    no_allocation::<f32>();
    no_allocation::<f64>();
}
