//! The same seed gives bit-identical training at 1 and 2 threads (the two directions of a
//! bidirectional layer run in parallel; dropout draws from the trainer's seeded source), for every
//! cell kind of the registry (`zoo::variants`): variant `k` under variant `k + 1`.

use crate::common;

use rand::Rng;
use rnnzoo::cell::seeded;
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::optim::Adam;
use rnnzoo::layers::train::{Batch, Targets, TrainConfig, Trainer};
use rnnzoo::layers::{Bidirectional, Layer, Merge, Model, Readout, Recurrent, Stack};

fn train(kind: usize, threads: usize) -> (Vec<u64>, Vec<u32>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let bi = |kind, input, seed| {
            let f = Recurrent::new(common::cell::<f32>(kind, input, 16, seed));
            let b = Recurrent::new(common::cell::<f32>(kind, input, 16, seed + 1));
            Box::new(Bidirectional::new(f, b, Merge::Concat).unwrap()) as Box<dyn Layer<f32>>
        };
        let body = Stack::new(vec![bi(kind, 3, 0), bi(kind + 1, 32, 10)])
            .unwrap()
            .with_dropout(0.25)
            .unwrap();
        let head = Dense::new(32, 4, Activation::Identity, &mut seeded(20)).unwrap();
        let model = Model::new(body, head, Readout::EveryStep).unwrap();
        let mut trainer = Trainer::new(
            model,
            Box::new(Adam::new(0.01)),
            TrainConfig {
                seed: 5,
                ..TrainConfig::default()
            },
        );
        let mut losses = Vec::new();
        for s in 0..6 {
            let mut rng = seeded(100 + s);
            let (t, b) = (9, 5);
            let x: Vec<f32> = (0..3 * t * b).map(|_| rng.random::<f32>() - 0.5).collect();
            let classes = (0..t * b).map(|_| rng.random_range(0..4)).collect();
            let batch = Batch {
                inputs: x,
                features: 3,
                steps: t,
                batch: b,
                lengths: Some(vec![9, 4, 7, 1, 9]),
                targets: Targets::StepClasses {
                    classes,
                    num_classes: 4,
                },
            };
            losses.push(trainer.step(&batch).unwrap().loss.to_bits());
        }
        let weights = trainer
            .model()
            .param_groups()
            .iter()
            .flat_map(|g| {
                g.params
                    .iter()
                    .flat_map(|p| p.data().iter().map(|v| v.to_bits()))
                    .collect::<Vec<_>>()
            })
            .collect();
        (losses, weights)
    })
}

#[test]
fn one_and_two_threads_agree_bit_for_bit() {
    for (kind, choice) in common::variants().iter().enumerate() {
        let one = train(kind, 1);
        let two = train(kind, 2);
        assert_eq!(one.0, two.0, "{choice}: losses differ");
        assert!(one.1 == two.1, "{choice}: weights differ");
        assert_eq!(
            train(kind, 2),
            two,
            "{choice}: a second run at 2 threads differs"
        );
    }
}
