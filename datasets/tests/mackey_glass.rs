//! Mackey-Glass: range, chaos (not constant), the equation itself, integration accuracy.

use rnnzoo_datasets::{DatasetError, MackeyGlass};

#[test]
fn stays_in_its_range_and_is_not_constant() {
    let x = MackeyGlass::default().series(3000).unwrap();
    let min = x.iter().copied().fold(f64::INFINITY, f64::min);
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(min > 0.2 && max < 1.4, "range [{min}, {max}]");
    // The attractor spans most of that range.
    assert!(min < 0.5 && max > 1.2, "range [{min}, {max}]");
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64;
    assert!((0.8..1.0).contains(&mean), "mean {mean}");
    assert!(var.sqrt() > 0.15, "std {}", var.sqrt());
    // Still moving at the end (chaotic, not settled on a fixed point).
    let tail = &x[2800..];
    let spread = tail.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - tail.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(spread > 0.5, "tail spread {spread}");
}

#[test]
fn satisfies_the_delay_equation() {
    // Sample at every grid step and compare a central difference with the right-hand side.
    let mg = MackeyGlass {
        dt: 0.01,
        sample_every: 0.01,
        ..MackeyGlass::default()
    };
    let x = mg.series(40_000).unwrap();
    let h = 0.01;
    let lag = 1700;
    let mut worst: f64 = 0.0;
    for j in (lag + 1..x.len() - 1).step_by(97) {
        let dx = (x[j + 1] - x[j - 1]) / (2.0 * h);
        let xl = x[j - lag];
        let rhs = 0.2 * xl / (1.0 + xl.powi(10)) - 0.1 * x[j];
        worst = worst.max((dx - rhs).abs());
    }
    assert!(worst < 1e-3, "worst residual {worst}");
}

#[test]
fn integration_converges() {
    // Halving the step changes the early samples very little (RK4 is fourth order); chaos
    // amplifies differences later, so only the first 150 time units are compared.
    let coarse = MackeyGlass::default().series(150).unwrap();
    let fine = MackeyGlass {
        dt: 0.05,
        ..MackeyGlass::default()
    }
    .series(150)
    .unwrap();
    let worst = coarse
        .iter()
        .zip(&fine)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-4, "worst difference {worst}");
    assert_eq!(coarse[0], 1.2);
    assert_ne!(coarse[1], coarse[0]);
}

#[test]
fn washout_drops_the_start() {
    let full = MackeyGlass::default().series(300).unwrap();
    let washed = MackeyGlass {
        washout: 100,
        ..MackeyGlass::default()
    }
    .series(200)
    .unwrap();
    assert_eq!(&full[100..], &washed[..]);
}

#[test]
fn deterministic_and_seeded() {
    let mg = MackeyGlass::default();
    assert_eq!(mg.series(500).unwrap(), mg.series(500).unwrap());
    assert_eq!(
        mg.series_seeded(500, 1).unwrap(),
        mg.series_seeded(500, 1).unwrap()
    );
    let a = mg.series_seeded(500, 1).unwrap();
    let b = mg.series_seeded(500, 2).unwrap();
    assert_ne!(a, b);
    assert!(a.iter().chain(&b).all(|v| (0.1..1.6).contains(v)));
}

#[test]
fn bad_parameters_are_errors() {
    let d = MackeyGlass::default();
    assert!(matches!(d.series(0), Err(DatasetError::TooShort { .. })));
    let bad = [
        MackeyGlass { tau: 17.03, ..d },
        MackeyGlass { dt: 0.0, ..d },
        MackeyGlass { dt: -0.1, ..d },
        MackeyGlass {
            sample_every: 0.15,
            ..d
        },
        MackeyGlass {
            beta: f64::NAN,
            ..d
        },
        MackeyGlass { initial: 0.0, ..d },
        MackeyGlass {
            tau: f64::INFINITY,
            ..d
        },
    ];
    for mg in bad {
        assert!(
            matches!(mg.series(10), Err(DatasetError::InvalidParameter { .. })),
            "{mg:?}"
        );
    }
}
