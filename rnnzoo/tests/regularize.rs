//! Recurrent dropout and zoneout on every cell kind of the registry (`zoo::variants`), so a newly
//! registered cell is tested with no edit: gradient checks through time with the masks held fixed
//! (lengths, both directions, an initial state), bit-identical training on 1 and 2 threads, and
//! checkpoints that load into the unregularised model and back.

use crate::common;

use proptest::prelude::*;
use rand::{Rng, RngCore};
use rnnzoo::cell::gradcheck::Options;
use rnnzoo::cell::strategies::{SizeRanges, unroll_case};
use rnnzoo::cell::{Cell, Params, seeded};
use rnnzoo::layers::checkpoint::{load_training, load_weights, training_bytes, weights_bytes};
use rnnzoo::layers::file::Tensors;
use rnnzoo::layers::gradcheck::check_layer;
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::optim::Adam;
use rnnzoo::layers::regularize::{Regularized, Regularizer};
use rnnzoo::layers::train::{Batch, Targets, TrainConfig, Trainer};
use rnnzoo::layers::{
    Bidirectional, Direction, InputGrads, Inputs, Layer, LayerError, LayerTape, Merge, Model,
    Output, ParamGroup, Readout, Recurrent, Stack,
};

/// Dropout and zoneout of `h`, and zoneout of the state's other rows where the cell has them (the
/// registry's `state` beyond `h`).
fn rates(kind: usize, dropout: f64, h: f64, c: f64) -> Regularizer {
    let entry = common::variants()[kind % common::count()].entry();
    let c = if entry.state.len() > 1 { c } else { 0.0 };
    Regularizer::new()
        .with_recurrent_dropout(dropout)
        .unwrap()
        .with_zoneout(h, c)
        .unwrap()
}

fn regularized<T: rnnzoo::cell::Real>(
    kind: usize,
    input: usize,
    hidden: usize,
    seed: u64,
    direction: Direction,
    reg: Regularizer,
) -> Regularized<Box<dyn Cell<T>>> {
    let cell = common::cell::<T>(kind, input, hidden, seed);
    Regularized::new(Recurrent::with_direction(cell, direction), reg).unwrap()
}

/// The masks of every pass drawn from one seed (see layers/tests/regularize.rs).
struct Fixed<L> {
    layer: L,
    seed: u64,
}

impl<L: Layer<f64>> Layer<f64> for Fixed<L> {
    fn input_size(&self) -> usize {
        self.layer.input_size()
    }
    fn output_size(&self) -> usize {
        self.layer.output_size()
    }
    fn state_size(&self) -> usize {
        self.layer.state_size()
    }
    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, f64>,
        _train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<f64>, LayerTape), LayerError> {
        self.layer
            .forward_unchecked(inputs, Some(&mut seeded(self.seed)))
    }
    fn infer_unchecked(&self, inputs: Inputs<'_, f64>) -> Result<Output<f64>, LayerError> {
        Ok(self.forward_unchecked(inputs, None)?.0)
    }
    fn direction(&self) -> Direction {
        self.layer.direction()
    }
    fn backward(
        &self,
        tape: &LayerTape,
        d_output: &[f64],
        d_final: Option<&[f64]>,
        grads: &mut [Params<f64>],
    ) -> Result<InputGrads<f64>, LayerError> {
        self.layer.backward(tape, d_output, d_final, grads)
    }
    fn param_groups(&self) -> Vec<ParamGroup<'_, f64>> {
        self.layer.param_groups()
    }
    fn params_mut(&mut self) -> Vec<&mut Params<f64>> {
        self.layer.params_mut()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_registered_cell_passes_with_fixed_masks(
        kind in 0..common::count(),
        case in unroll_case(SizeRanges::default()),
        mask_seed in any::<u64>(),
    ) {
        let direction = if case.reverse { Direction::Reverse } else { Direction::Forward };
        let reg = rates(kind, 0.4, 0.3, 0.5);
        let layer = regularized::<f64>(kind, case.input, case.hidden, case.seed, direction, reg);
        let report = check_layer(Fixed { layer, seed: mask_seed }, &(&case).into(), &Options::default()).unwrap();
        prop_assert!(report.passed(), "{}, {case:?}\n{report}", common::variants()[kind]);
    }
}

/// A regularised bidirectional stack (variant `kind` under `kind + 1`) with a head.
fn model(kind: usize, wrap: bool) -> Model<f32> {
    let layer = |k: usize, input, seed, direction| -> Box<dyn Layer<f32>> {
        if wrap {
            Box::new(regularized::<f32>(
                k,
                input,
                16,
                seed,
                direction,
                rates(k, 0.3, 0.1, 0.2),
            ))
        } else {
            Box::new(Recurrent::with_direction(
                common::cell::<f32>(k, input, 16, seed),
                direction,
            ))
        }
    };
    let bi = |k, input, seed| -> Box<dyn Layer<f32>> {
        Box::new(
            Bidirectional::new(
                layer(k, input, seed, Direction::Forward),
                layer(k, input, seed + 1, Direction::Forward),
                Merge::Concat,
            )
            .unwrap(),
        )
    };
    let body = Stack::new(vec![bi(kind, 3, 0), bi(kind + 1, 32, 10)])
        .unwrap()
        .with_dropout(0.25)
        .unwrap();
    let head = Dense::new(32, 4, Activation::Identity, &mut seeded(20)).unwrap();
    Model::new(body, head, Readout::EveryStep).unwrap()
}

fn batch(s: u64) -> Batch<f32> {
    let mut rng = seeded(100 + s);
    let (t, b) = (9, 5);
    Batch {
        inputs: (0..3 * t * b).map(|_| rng.random::<f32>() - 0.5).collect(),
        features: 3,
        steps: t,
        batch: b,
        lengths: Some(vec![9, 4, 7, 1, 9]),
        targets: Targets::StepClasses {
            classes: (0..t * b).map(|_| rng.random_range(0..4)).collect(),
            num_classes: 4,
        },
    }
}

fn weights(model: &Model<f32>) -> Vec<u32> {
    model
        .param_groups()
        .iter()
        .flat_map(|g| {
            g.params
                .iter()
                .flat_map(|p| p.data().iter().map(|v| v.to_bits()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Six trainer steps at `threads`: the losses and the weights, as bits.
fn train(kind: usize, threads: usize) -> (Vec<u64>, Vec<u32>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let config = TrainConfig {
            seed: 5,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(model(kind, true), Box::new(Adam::new(0.01)), config);
        let losses = (0..6)
            .map(|s| trainer.step(&batch(s)).unwrap().loss.to_bits())
            .collect();
        (losses, weights(trainer.model()))
    })
}

#[test]
fn training_is_bit_identical_on_one_and_two_threads() {
    for (kind, choice) in common::variants().iter().enumerate() {
        let one = train(kind, 1);
        let two = train(kind, 2);
        assert_eq!(one.0, two.0, "{choice}: losses differ");
        assert!(one.1 == two.1, "{choice}: weights differ");
    }
}

#[test]
fn the_masks_change_training() {
    // Same model, same data: the regularised run's losses are not the plain one's.
    let config = TrainConfig {
        seed: 5,
        ..TrainConfig::default()
    };
    let losses = [true, false].map(|wrap| {
        let mut t = Trainer::new(model(1, wrap), Box::new(Adam::new(0.01)), config.clone());
        (0..3)
            .map(|s| t.step(&batch(s)).unwrap().loss)
            .collect::<Vec<_>>()
    });
    assert_ne!(losses[0], losses[1]);
}

#[test]
fn checkpoints_load_into_the_unregularised_model_and_back() {
    for (kind, choice) in common::variants().iter().enumerate() {
        let config = TrainConfig {
            seed: 5,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(model(kind, true), Box::new(Adam::new(0.01)), config);
        trainer.step(&batch(0)).unwrap();
        let bytes = weights_bytes(trainer.model()).unwrap();
        let tensors = Tensors::parse(&bytes, false).unwrap();
        let mut plain = model(kind, false);
        load_weights(&mut plain, &tensors).unwrap();
        assert!(weights(&plain) == weights(trainer.model()), "{choice}");
        // And back: the plain model's file loads into a regularised one.
        let mut again = model(kind, true);
        let back = Tensors::parse(&weights_bytes(&plain).unwrap(), false).unwrap();
        load_weights(&mut again, &back).unwrap();
        assert!(weights(&again) == weights(&plain), "{choice}");
        // A training checkpoint resumes into the plain model too.
        let saved = training_bytes(&trainer, serde_json::Value::Null).unwrap();
        let (resumed, _) = load_training(model(kind, false), &saved).unwrap();
        assert!(
            weights(resumed.model()) == weights(trainer.model()),
            "{choice}"
        );
    }
}
