//! `bidirectional`: a per-step tagging task whose label at step t is the input `LOOKAHEAD` steps
//! later (or "end" past the sample's last step), on variable-length sequences. A one-directional
//! GRU layer cannot know the future symbol, so on those steps it can do no better than chance;
//! a bidirectional layer of the same output width can.

use rand::Rng;
use rnnzoo::cell::seeded;
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::train::{Batch, Targets};
use rnnzoo::layers::{Bidirectional, Layer, Merge, Model, Readout, Recurrent, Stack};
use serde::Serialize;

use super::kit::{Run, adam_trainer, num, param_count, pick, test_curve, test_set, train_steps};
use super::plot::{Chart, Series};
use super::{Context, Outcome};
use rnnzoo::zoo::CellChoice;

/// Symbols in the input alphabet.
const SYMBOLS: usize = 4;
/// How far ahead the label looks.
const LOOKAHEAD: usize = 2;

/// A batch: one-hot symbols, lengths uniform in `[steps/2, steps]`, label `x[t + LOOKAHEAD]` where
/// it exists and the class `SYMBOLS` ("end") on the last `LOOKAHEAD` valid steps.
fn sample(steps: usize, batch: usize, rng: &mut impl Rng) -> Batch<f32> {
    let lengths: Vec<usize> = (0..batch)
        .map(|_| rng.random_range(steps / 2..=steps))
        .collect();
    let mut ids = vec![0usize; steps * batch];
    let mut x = vec![0.0f32; SYMBOLS * steps * batch];
    for (b, &len) in lengths.iter().enumerate() {
        for t in 0..len {
            let s = rng.random_range(0..SYMBOLS);
            ids[t * batch + b] = s;
            x[(t * batch + b) * SYMBOLS + s] = 1.0;
        }
    }
    // Padded steps get class 0; the loss masks them by the lengths.
    let mut classes = vec![0usize; steps * batch];
    for (b, &len) in lengths.iter().enumerate() {
        for t in 0..len {
            classes[t * batch + b] = if t + LOOKAHEAD < len {
                ids[(t + LOOKAHEAD) * batch + b]
            } else {
                SYMBOLS
            };
        }
    }
    Batch {
        inputs: x,
        features: SYMBOLS,
        steps,
        batch,
        lengths: Some(lengths),
        targets: Targets::StepClasses {
            classes,
            num_classes: SYMBOLS + 1,
        },
    }
}

/// Accuracy over the steps whose label is a future symbol (not "end"), where a one-directional
/// model's expected accuracy is 1 / SYMBOLS whatever it learns.
fn lookahead_accuracy(m: &Model<f32>, test: &[Batch<f32>]) -> anyhow::Result<f64> {
    let (mut right, mut n) = (0usize, 0usize);
    for piece in test {
        let (r, k) = lookahead_right(m, piece)?;
        right += r;
        n += k;
    }
    Ok(right as f64 / n.max(1) as f64)
}

/// Right predictions and look-ahead steps in one batch.
fn lookahead_right(m: &Model<f32>, test: &Batch<f32>) -> anyhow::Result<(usize, usize)> {
    let p = m.predict(test.into())?.predictions;
    let Targets::StepClasses { classes, .. } = &test.targets else {
        anyhow::bail!("class targets")
    };
    let lengths = test.lengths.as_deref().unwrap_or_default();
    let c = SYMBOLS + 1;
    let (mut right, mut n) = (0usize, 0usize);
    for (b, &len) in lengths.iter().enumerate() {
        for t in 0..len.saturating_sub(LOOKAHEAD) {
            let col = t * test.batch + b;
            let z = &p[col * c..][..c];
            let arg = (0..c).max_by(|&i, &j| z[i].total_cmp(&z[j])).unwrap_or(0);
            right += usize::from(arg == classes[col]);
            n += 1;
        }
    }
    Ok((right, n))
}

#[derive(Debug, Clone, Serialize)]
struct Case {
    model: String,
    params: usize,
    run: Run,
    final_test_ce: f64,
    lookahead_accuracy: f64,
}

fn build(bidirectional: bool, width: usize, seed: u64) -> anyhow::Result<Model<f32>> {
    let mut rng = seeded(seed);
    let layer: Box<dyn Layer<f32>> = if bidirectional {
        // Two halves of width/2 units, outputs concatenated: the same output width as the
        // one-directional layer (and fewer parameters).
        let f = Recurrent::new(CellChoice::named("gru")?.build::<f32, _>(
            SYMBOLS,
            width / 2,
            &mut rng,
        )?);
        let b = Recurrent::new(CellChoice::named("gru")?.build::<f32, _>(
            SYMBOLS,
            width / 2,
            &mut rng,
        )?);
        Box::new(Bidirectional::new(f, b, Merge::Concat)?)
    } else {
        Box::new(Recurrent::new(
            CellChoice::named("gru")?.build::<f32, _>(SYMBOLS, width, &mut rng)?,
        ))
    };
    let head = Dense::new(width, SYMBOLS + 1, Activation::Identity, &mut rng)?;
    Ok(Model::new(
        Stack::new(vec![layer])?,
        head,
        Readout::EveryStep,
    )?)
}

/// Trains both models and renders the comparison.
pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let (steps, width, batch, updates, eval_every, test_n, lr) = pick(
        ctx.scale,
        (8, 8, 8, 20, 10, 32, 3e-3),
        (30, 32, 32, 800, 50, 500, 3e-3),
        (100, 128, 32, 5000, 100, 2000, 3e-3),
    );
    let clip = 1.0;
    let test = test_set(test_n, ctx.seed ^ 0x7e57, |n, s| {
        Ok(sample(steps, n, &mut seeded(s)))
    })?;
    let mut cases = Vec::new();
    let mut chart = Chart::new(
        format!("Look-ahead tagging (label = input {LOOKAHEAD} steps later), GRU, width {width}"),
        "update",
        "test cross-entropy (nats per step)",
        false,
    );
    for bi in [false, true] {
        let name = if bi {
            format!("bidirectional GRU {0}+{0}", width / 2)
        } else {
            format!("GRU {width}")
        };
        let m = build(bi, width, ctx.seed)?;
        let params = param_count(&m);
        let mut trainer = adam_trainer(m, lr, Some(clip), ctx.seed);
        let run = train_steps(
            &mut trainer,
            updates,
            eval_every,
            |r| Ok(sample(steps, batch, r)),
            &test,
            ctx.progress,
            &format!("bidirectional: {name}"),
        )?;
        chart = chart.with(Series::line(&name, test_curve(&run.records)));
        cases.push(Case {
            lookahead_accuracy: lookahead_accuracy(trainer.model(), &test)?,
            final_test_ce: run.records.last().map_or(f64::NAN, |r| r.test_loss),
            model: name,
            params,
            run,
        });
    }
    chart.write_svg(&ctx.out.join("bidirectional.svg"))?;

    let mut md = format!(
        "Setting: sequences of {SYMBOLS} random symbols (one-hot), lengths uniform in [{}, {steps}] \
         (padded, passed as lengths); the label at step t is the symbol at t + {LOOKAHEAD}, or \"end\" on \
         the last {LOOKAHEAD} valid steps; cross-entropy at every valid step. A one-directional GRU of \
         {width} units against a bidirectional GRU of {h} + {h} units (outputs concatenated: the same \
         width {width} into the same linear softmax head). Adam lr {lr}, gradient norm clipped at {clip}, \
         batch {batch}, {updates} updates on fresh sequences, seed {seed}; {test_n} fixed test sequences.\n\n\
         | model | parameters | test cross-entropy | accuracy on look-ahead steps |\n\
         | --- | ---: | ---: | ---: |\n",
        steps / 2,
        h = width / 2,
        seed = ctx.seed,
    );
    for c in &cases {
        md += &format!(
            "| {} | {} | {} | {:.1}% |\n",
            c.model,
            c.params,
            num(c.final_test_ce),
            100.0 * c.lookahead_accuracy
        );
    }
    md += &format!(
        "\nReference: this is a constructed task, so the reference is analytic rather than published. \
         The future symbol is independent of everything a one-directional layer has seen, so on the \
         look-ahead steps any prediction it makes is right with probability 1/{SYMBOLS} if it names a \
         symbol and 0 if it names \"end\": its expected accuracy there is at most {:.0}% and its \
         cross-entropy at least ln {SYMBOLS} = {:.3} nats, however long it trains. (It can score below \
         {:.0}% because near the end of long sequences \"end\" is rightly its most likely label.) A \
         bidirectional layer sees the symbol through its reverse half and can reach 100%. This is the \
         argument of Schuster & Paliwal (1997, \"Bidirectional recurrent neural networks\") made \
         exact.\n",
        100.0 / SYMBOLS as f64,
        (SYMBOLS as f64).ln(),
        100.0 / SYMBOLS as f64,
    );
    Ok(Outcome {
        summary: cases
            .iter()
            .map(|c| {
                format!(
                    "{}: {:.1}% look-ahead accuracy",
                    c.model,
                    100.0 * c.lookahead_accuracy
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        markdown: md,
        json: serde_json::json!({
            "config": {"symbols": SYMBOLS, "lookahead": LOOKAHEAD, "max_steps": steps, "width": width,
                       "batch": batch, "updates": updates, "eval_every": eval_every, "test_sequences": test_n,
                       "optimizer": "Adam", "lr": lr, "clip_norm": clip},
            "runs": cases,
        }),
        plots: vec!["bidirectional.svg".into()],
    })
}
