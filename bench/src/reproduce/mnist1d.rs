//! `mnist1d`: sequence classification on MNIST-1D (Greydanus & Kobak 2020), the standard split
//! (4,000 training and 1,000 test sequences of length 40, one value per step), and its spatially
//! shuffled variant, for a GRU (the paper's recurrent model), an LSTM, a tanh RNN and a
//! bidirectional GRU. Test accuracy beside the published 91 % and 57 %.

use rnnzoo::datasets::{Mnist1d, Targets};
use rnnzoo::layers::Model;
use rnnzoo::layers::train::Batch;
use serde::Serialize;

use super::claims::Claim;
use super::kit::{Run, adam_trainer, in_parallel, param_count, pick, train_until};
use super::plot::{Chart, Series};
use super::{Context, Outcome, Scale};
use crate::train::ModelConfig;
use crate::train::model::{Learned, build};
use crate::train::sequences::Task;

/// The GRU's test accuracy the issue sets as the goal, against the published 91 %.
pub(super) const GRU_GOAL: f64 = 0.88;
/// Shuffling "costs most of the GRU's advantage": the shuffled accuracy at least this far
/// below the unshuffled one (published: 91 % against 57 %, 34 points).
const SHUFFLE_DROP_AT_LEAST: f64 = 0.15;

/// One model: its label, cell, whether bidirectional, and whether on shuffled positions.
pub(super) struct Spec {
    pub(super) label: &'static str,
    pub(super) cell: &'static str,
    pub(super) bidirectional: bool,
    pub(super) shuffled: bool,
}

const SPECS: &[Spec] = &[
    Spec {
        label: "gru",
        cell: "gru",
        bidirectional: false,
        shuffled: false,
    },
    Spec {
        label: "gru shuffled",
        cell: "gru",
        bidirectional: false,
        shuffled: true,
    },
    Spec {
        label: "lstm",
        cell: "lstm",
        bidirectional: false,
        shuffled: false,
    },
    Spec {
        label: "rnn-tanh",
        cell: "rnn-tanh",
        bidirectional: false,
        shuffled: false,
    },
    Spec {
        label: "bidirectional gru",
        cell: "gru",
        bidirectional: true,
        shuffled: false,
    },
];

#[derive(Debug, Clone, Serialize)]
pub(super) struct Case {
    pub(super) model: String,
    pub(super) shuffled: bool,
    pub(super) params: usize,
    pub(super) run: Run,
    /// Test accuracy after each evaluation: `(update, accuracy)`.
    pub(super) accuracy: Vec<(usize, f64)>,
    pub(super) final_accuracy: f64,
    pub(super) best_accuracy: f64,
    pub(super) seconds: f64,
}

pub(super) struct Settings {
    pub(super) hidden: usize,
    pub(super) batch: usize,
    pub(super) updates: usize,
    pub(super) eval_every: usize,
    pub(super) lr: f64,
}

/// The settings of a scale.
pub(super) fn settings(scale: Scale) -> Settings {
    // Batch 100 and Adam as the authors' notebook (notebooks/train.py); their lr 1e-2 is for a
    // GRU of 6 units, and a GRU of 64 trains best at Adam's usual 1e-3 here (clip 1, as in
    // every experiment of the suite).
    pick(
        scale,
        Settings {
            hidden: 8,
            batch: 20,
            updates: 20,
            eval_every: 10,
            lr: 1e-3,
        },
        Settings {
            hidden: 64,
            batch: 100,
            updates: QUICK_UPDATES,
            eval_every: 250,
            lr: 1e-3,
        },
        Settings {
            hidden: 128,
            batch: 100,
            updates: 20_000,
            eval_every: 500,
            lr: 1e-3,
        },
    )
}

/// Trains every model and renders the table, the claims and the plot.
pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let s = settings(ctx.scale);
    let data = Mnist1d::embedded()?;
    let seed = ctx.seed;
    let cases = in_parallel(
        SPECS.iter().filter(|s| ctx.wants(s.label)).collect(),
        |spec| {
            let c = train_case(&data, spec, &s, seed)?;
            if ctx.progress {
                eprintln!(
                    "mnist1d {}: test accuracy {:.1}% after {} updates, {:.1} s",
                    c.model,
                    100.0 * c.final_accuracy,
                    s.updates,
                    c.seconds
                );
            }
            Ok(c)
        },
    )?;
    let mut chart = Chart::new(
        format!("MNIST-1D: test accuracy, hidden {}", s.hidden),
        "update",
        "test accuracy (%)",
        false,
    );
    for c in &cases {
        chart = chart.with(Series::line(
            &c.model,
            c.accuracy
                .iter()
                .map(|&(u, a)| (u as f64, 100.0 * a))
                .collect(),
        ));
    }
    chart = chart
        .with(Series::hline(
            "published GRU 91%",
            91.0,
            0.0,
            s.updates as f64,
        ))
        .with(Series::hline(
            "published GRU shuffled 57%",
            57.0,
            0.0,
            s.updates as f64,
        ));
    chart.write_svg(&ctx.out.join("mnist1d.svg"))?;

    let claims = claims(&cases);
    let mut md = format!(
        "Setting: MNIST-1D as its authors' generator makes it with the default arguments (embedded; \
         `datasets/data/mnist1d/make.py` regenerates it and documents the check against their frozen \
         copy), 4,000 training and 1,000 test sequences of 40 values, one value per step. One \
         recurrent layer of {h} units (the bidirectional GRU: {h} per direction), a linear head on \
         the final states (`h_n[-1]`, or `cat(h_n[-2], h_n[-1])`), softmax cross-entropy. Adam lr \
         {lr}, gradient norm clipped at 1, batch {b} drawn with replacement, {u} updates, seed {seed}. \
         Shuffled: the 40 positions of every sequence permuted by one fixed permutation \
         (`np.random.seed(42); np.random.permutation(40)`, as the authors' notebook).\n\n\
         | model | positions | parameters | test accuracy at the end | best | seconds |\n\
         | --- | --- | ---: | ---: | ---: | ---: |\n",
        h = s.hidden,
        lr = s.lr,
        b = s.batch,
        u = s.updates,
    );
    for c in &cases {
        md += &format!(
            "| {} | {} | {} | {:.1}% | {:.1}% | {:.1} |\n",
            c.model,
            if c.shuffled { "shuffled" } else { "in order" },
            c.params,
            100.0 * c.final_accuracy,
            100.0 * c.best_accuracy,
            c.seconds
        );
    }
    md += "\nReference: Greydanus & Kobak, \"Scaling down deep learning with MNIST-1D\" \
           (arXiv:2011.14439); the table of their repository's README (greydanus/mnist1d): GRU 91%, \
           and 57% on the shuffled variant (CNN 94% and 56%, logistic regression 32%). Their GRU \
           (notebooks/models.py) is bidirectional with 6 units, all 40 x 2 x 6 outputs flattened into \
           the linear layer, Adam lr 1e-2, batch 100, 6,000 updates; the notebook's saved run ends at \
           89.1% (best 90.3%) and 53.3% shuffled. Ours reads the final states only, as PyTorch \
           classifiers usually do, which is the harder readout: the whole sequence must pass through \
           the state.\n";
    md += &super::claims::list_markdown(&claims);
    Ok(Outcome {
        summary: cases
            .iter()
            .map(|c| format!("{} {:.1}%", c.model, 100.0 * c.final_accuracy))
            .collect::<Vec<_>>()
            .join(", "),
        markdown: md,
        json: serde_json::json!({
            "config": {"hidden": s.hidden, "batch": s.batch, "updates": s.updates,
                       "eval_every": s.eval_every, "optimizer": "Adam", "lr": s.lr, "clip_norm": 1.0,
                       "readout": "final states", "train": data.train_len(), "test": data.test_len()},
            "runs": cases,
            "summary_rows": claims.iter().map(Claim::json).collect::<Vec<_>>(),
        }),
        plots: vec!["mnist1d.svg".into()],
    })
}

/// The quick budget: 4,000 updates of 100 = 100 passes over the 4,000 training sequences.
const QUICK_UPDATES: usize = 4000;

pub(super) fn train_case(
    data: &Mnist1d,
    spec: &Spec,
    s: &Settings,
    seed: u64,
) -> anyhow::Result<Case> {
    let cfg = ModelConfig {
        cell: spec.cell.into(),
        hidden: s.hidden,
        layers: 1,
        bidirectional: spec.bidirectional,
        ..ModelConfig::default()
    };
    let learned = Learned::Sequences {
        task: Task::Classify {
            classes: Mnist1d::CLASSES,
        },
        features: 1,
    };
    let m = build::<f32>(&cfg, &learned, seed)?;
    let params = param_count(&m);
    let test = data.test(spec.shuffled);
    let mut trainer = adam_trainer(m, s.lr, Some(1.0), seed);
    // One run, one stream of batches; the accuracy is measured at every evaluation.
    let mut accuracy = Vec::new();
    let run = train_until(
        &mut trainer,
        s.updates,
        s.eval_every,
        |r| Ok(data.sample_train(s.batch, r, spec.shuffled)?),
        std::slice::from_ref(&test),
        |r, t| {
            accuracy.push((r.step, accuracy_of(t.model(), &test)?));
            Ok(false)
        },
        false,
        spec.label,
    )?;
    let seconds = run.records.last().map_or(0.0, |r| r.seconds);
    Ok(Case {
        model: spec.label.into(),
        shuffled: spec.shuffled,
        params,
        run,
        final_accuracy: accuracy.last().map_or(0.0, |a| a.1),
        best_accuracy: accuracy.iter().map(|a| a.1).fold(0.0, f64::max),
        accuracy,
        seconds,
    })
}

/// The fraction of `test` whose argmax prediction is its class.
fn accuracy_of(m: &Model<f32>, test: &Batch<f32>) -> anyhow::Result<f64> {
    let p = m.predict(test.into())?.predictions;
    let Targets::FinalClasses {
        classes,
        num_classes,
    } = &test.targets
    else {
        anyhow::bail!("MNIST-1D has one class per sequence")
    };
    let right = classes
        .iter()
        .enumerate()
        .filter(|&(b, &y)| {
            let z = &p[b * num_classes..][..*num_classes];
            (0..*num_classes).max_by(|&i, &j| z[i].total_cmp(&z[j])) == Some(y)
        })
        .count();
    Ok(right as f64 / classes.len().max(1) as f64)
}

fn claims(cases: &[Case]) -> Vec<Claim> {
    let find = |m: &str| cases.iter().find(|c| c.model == m);
    let mut rows = Vec::new();
    if let Some(g) = find("gru") {
        rows.push(Claim {
            id: "mnist1d-gru".into(),
            claim: format!(
                "A GRU reaches at least {:.0}% test accuracy on MNIST-1D",
                100.0 * GRU_GOAL
            ),
            reference: "Greydanus & Kobak 2020 (arXiv:2011.14439), greydanus/mnist1d README table"
                .into(),
            published: "GRU 91%".into(),
            measured: format!(
                "{:.1}% at the end (best {:.1}%)",
                100.0 * g.final_accuracy,
                100.0 * g.best_accuracy
            ),
            holds: g.final_accuracy >= GRU_GOAL,
        });
        if let Some(sh) = find("gru shuffled") {
            rows.push(Claim {
                id: "mnist1d-gru-shuffled".into(),
                claim: format!(
                    "Shuffling the positions costs the GRU at least {:.0} points of test accuracy",
                    100.0 * SHUFFLE_DROP_AT_LEAST
                ),
                reference: "Greydanus & Kobak 2020, greydanus/mnist1d README table".into(),
                published: "GRU shuffled 57% (91% in order)".into(),
                measured: format!(
                    "{:.1}% shuffled against {:.1}% in order",
                    100.0 * sh.final_accuracy,
                    100.0 * g.final_accuracy
                ),
                holds: g.final_accuracy - sh.final_accuracy >= SHUFFLE_DROP_AT_LEAST,
            });
        }
    }
    rows
}
