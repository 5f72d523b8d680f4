//! Noisy sines, forecasting windows, splits and the persistence baseline.

use rnnzoo_datasets::{
    DatasetError, MackeyGlass, NoisySines, Targets, Windows, forecast_split, rng,
};

#[test]
fn windows_hold_the_series_and_the_next_value() {
    let series = MackeyGlass::default().series(300).unwrap();
    let w = Windows::new(&series, 25).unwrap();
    assert_eq!(w.len(), 275);
    let indices = [0, 7, 274, 100];
    let batch = w.batch(&indices).unwrap();
    batch.validate().unwrap();
    assert_eq!((batch.features, batch.steps, batch.batch), (1, 25, 4));
    let Targets::FinalValues { values, outputs: 1 } = &batch.targets else {
        panic!("{:?}", batch.targets)
    };
    for (b, &i) in indices.iter().enumerate() {
        for t in 0..25 {
            assert_eq!(batch.inputs[t * 4 + b], series[i + t]);
        }
        assert_eq!(values[b], series[i + 25]);
    }
}

#[test]
fn persistence_mse_matches_the_batches() {
    let series = NoisySines::default().series_seeded(500, 1).unwrap();
    let w = Windows::new(&series, 10).unwrap();
    let (mut sum, mut n) = (0.0, 0);
    for batch in w.batches(64).unwrap() {
        let Targets::FinalValues { values, .. } = &batch.targets else {
            unreachable!()
        };
        for (b, y) in values.iter().enumerate() {
            let last = batch.inputs[(batch.steps - 1) * batch.batch + b];
            sum += (y - last).powi(2);
            n += 1;
        }
    }
    assert_eq!(n, w.len());
    assert!((sum / n as f64 - w.persistence_mse()).abs() < 1e-12);
}

#[test]
fn noisy_sine_persistence_matches_theory() {
    // One sine of period P: mean (x_{t+1} - x_t)^2 = 2 sin^2(pi / P); independent noise of
    // standard deviation s adds 2 s^2.
    let p = 25.0;
    let s = 0.1;
    let sines = NoisySines {
        periods: vec![p],
        noise_std: s,
    };
    let series = sines.series_seeded(20_000, 2).unwrap();
    let w = Windows::new(&series, 1).unwrap();
    let expected = 2.0 * (std::f64::consts::PI / p).sin().powi(2) + 2.0 * s * s;
    let got = w.persistence_mse();
    assert!((got - expected).abs() < 0.002, "{got} vs {expected}");
    let mean = series.iter().sum::<f64>() / series.len() as f64;
    assert!(mean.abs() < 0.01, "mean {mean}");
}

#[test]
fn split_is_chronological_and_each_part_has_its_baseline() {
    let series: Vec<f64> = (0..100).map(|i| (i * i) as f64).collect();
    let (train, valid) = forecast_split(&series, 5, 0.8).unwrap();
    assert_eq!(train.series(), &series[..80]);
    assert_eq!(valid.series(), &series[80..]);
    assert_eq!((train.len(), valid.len()), (75, 15));
    // x = i^2: consecutive differences are 2i + 1, so persistence MSE is their mean square.
    let expected = (85..100).map(|i| ((2 * i - 1) as f64).powi(2)).sum::<f64>() / 15.0;
    assert!((valid.persistence_mse() - expected).abs() < 1e-9);
    assert!(matches!(
        forecast_split(&series, 5, 1.2),
        Err(DatasetError::FractionOutOfRange { .. })
    ));
    assert!(matches!(
        forecast_split(&series, 5, 0.97),
        Err(DatasetError::TooShort { .. })
    ));
}

#[test]
fn shuffled_batches_visit_every_window_once() {
    let series: Vec<f64> = (0..50).map(f64::from).collect();
    let w = Windows::new(&series, 4).unwrap();
    let mut firsts: Vec<f64> = Vec::new();
    let batches: Vec<_> = w.shuffled_batches(7, &mut rng(3)).unwrap().collect();
    assert_eq!(batches.len(), 7); // 46 windows
    for b in &batches {
        firsts.extend(&b.inputs[..b.batch]);
    }
    assert_ne!(
        firsts,
        (0..46).map(f64::from).collect::<Vec<_>>(),
        "not shuffled"
    );
    firsts.sort_by(f64::total_cmp);
    assert_eq!(firsts, (0..46).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn bad_parameters_are_errors() {
    assert!(Windows::new(&[1.0, 2.0], 0).is_err());
    assert!(matches!(
        Windows::new(&[1.0, 2.0], 2),
        Err(DatasetError::TooShort { .. })
    ));
    let w = Windows::new(&[1.0, 2.0, 3.0], 1).unwrap();
    assert_eq!(w.batch(&[]), Err(DatasetError::ZeroBatch));
    assert!(w.batch(&[2]).is_err());
    assert!(w.batches(0).is_err());
    let bad = [
        NoisySines {
            periods: vec![],
            noise_std: 0.1,
        },
        NoisySines {
            periods: vec![0.0],
            noise_std: 0.1,
        },
        NoisySines {
            periods: vec![10.0],
            noise_std: -1.0,
        },
        NoisySines {
            periods: vec![f64::NAN],
            noise_std: 0.1,
        },
    ];
    for s in bad {
        assert!(s.series_seeded(10, 0).is_err(), "{s:?}");
    }
    assert!(NoisySines::default().series_seeded(0, 0).is_err());
}

#[test]
fn deterministic_under_a_seed() {
    let s = NoisySines::default();
    assert_eq!(s.series_seeded(100, 1), s.series_seeded(100, 1));
    assert_ne!(s.series_seeded(100, 1), s.series_seeded(100, 2));
}
