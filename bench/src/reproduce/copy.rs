//! `copy`: the copy memory task (Hochreiter & Schmidhuber 1997; in this form Arjovsky, Shah &
//! Bengio 2016) for a tanh RNN, an LSTM and a GRU of the same hidden size. Mean cross-entropy per
//! step against the memoryless baseline `10 ln 8 / (T + 20)`, and the accuracy of the recalled
//! symbols.

use rnnzoo::datasets::{CopyMemory, Task};
use rnnzoo::layers::train::{Batch, Targets};
use rnnzoo::layers::{Model, Readout};
use serde::Serialize;

use super::kit::{
    Run, adam_trainer, model, num, param_count, pick, test_curve, test_set, train_steps,
};
use super::plot::{Chart, Series};
use super::{Context, Outcome};

#[derive(Debug, Clone, Serialize)]
struct Case {
    cell: String,
    delay: usize,
    params: usize,
    baseline: f64,
    run: Run,
    final_test_ce: f64,
    /// Fraction of the recalled symbols (the last 10 steps) predicted right.
    recall_accuracy: f64,
}

/// Accuracy of the argmax prediction over the recall steps of a test batch.
fn recall_accuracy(m: &Model<f32>, test: &[Batch<f32>], task: &CopyMemory) -> anyhow::Result<f64> {
    let (mut right, mut n) = (0usize, 0usize);
    for piece in test {
        right += recall_right(m, piece, task)?;
        n += task.copy_len() * piece.batch;
    }
    Ok(right as f64 / n.max(1) as f64)
}

/// Recalled symbols predicted right in one batch.
fn recall_right(m: &Model<f32>, test: &Batch<f32>, task: &CopyMemory) -> anyhow::Result<usize> {
    let p = m.predict(test.into())?.predictions;
    let Targets::StepClasses { classes, .. } = &test.targets else {
        anyhow::bail!("copy memory has class targets")
    };
    let (c, b) = (task.num_classes(), test.batch);
    let first = task.steps() - task.copy_len();
    let mut right = 0usize;
    for t in first..task.steps() {
        for s in 0..b {
            let col = t * b + s;
            let z = &p[col * c..][..c];
            let arg = (0..c).max_by(|&i, &j| z[i].total_cmp(&z[j])).unwrap_or(0);
            right += usize::from(arg == classes[col]);
        }
    }
    Ok(right)
}

/// Trains every cell at every delay and renders the table and the plot.
pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let delays: Vec<usize> = pick(ctx.scale, vec![5], vec![30], vec![100, 200, 300, 500]);
    let (hidden, batch, updates, eval_every, test_n, lr) = pick(
        ctx.scale,
        (8, 8, 20, 10, 32, 1e-3),
        (64, 32, 1500, 50, 500, 1e-3),
        (128, 20, 20_000, 200, 1000, 1e-3),
    );
    let clip = 1.0;
    // expRNN: the orthogonal family that solves copy memory where LSTM cannot (Arjovsky et al.
    // 2016); its authors run this task (Lezcano/expRNN, `1_copying.py`).
    let kinds = rnnzoo::zoo::choices(&["rnn-tanh", "lstm", "gru", "exprnn"])?;
    let mut cases = Vec::new();
    let mut chart = Chart::new(
        format!("Copy memory: test cross-entropy per step, hidden {hidden}"),
        "update",
        "cross-entropy (nats per step)",
        true,
    );
    for &delay in &delays {
        let task = CopyMemory::new(delay)?;
        let test = test_set(test_n, ctx.seed ^ 0x7e57 ^ delay as u64, |n, s| {
            Ok(task.sample_seeded(n, s)?.to_f32())
        })?;
        for &kind in &kinds {
            let features = task.features();
            let m = model(
                kind,
                features,
                hidden,
                1,
                task.num_classes(),
                Readout::EveryStep,
                ctx.seed,
            )?;
            let params = param_count(&m);
            let mut trainer = adam_trainer(m, lr, Some(clip), ctx.seed);
            let run = train_steps(
                &mut trainer,
                updates,
                eval_every,
                |r| Ok(task.sample(batch, r)?.to_f32()),
                &test,
                ctx.progress,
                &format!("copy T={delay} {}", kind.label()),
            )?;
            chart = chart.with(Series::line(
                format!("{} T={delay}", kind.label()),
                test_curve(&run.records),
            ));
            cases.push(Case {
                cell: kind.label(),
                delay,
                params,
                baseline: task.baseline_cross_entropy(),
                final_test_ce: run.records.last().map_or(f64::NAN, |r| r.test_loss),
                recall_accuracy: recall_accuracy(trainer.model(), &test, &task)?,
                run,
            });
        }
        chart = chart.with(Series::hline(
            format!("baseline T={delay}"),
            task.baseline_cross_entropy(),
            0.0,
            updates as f64,
        ));
    }
    chart.write_svg(&ctx.out.join("copy.svg"))?;

    let mut md = format!(
        "Setting: copy memory as in Arjovsky et al. (2016): 10 symbols from an alphabet of 8, then T \
         blanks with the delimiter in the last one, then 10 recall steps; T + 20 steps in all, one-hot \
         inputs, a class (blank or symbol) to predict at every step. One recurrent layer of {hidden} units \
         (PyTorch's default initialisation), a linear softmax head at every step, mean cross-entropy over \
         all steps. Adam lr {lr}, gradient norm clipped at {clip}, batch {batch}, {updates} updates on \
         fresh sequences, seed {seed}; {test_n} fixed test sequences. The memoryless baseline (blanks, \
         then a uniform guess over the 8 symbols) scores 10 ln 8 / (T + 20) and recalls 1/8 = 12.5% of \
         the symbols.\n\n\
         | T | cell | parameters | baseline | test cross-entropy | recall accuracy |\n\
         | ---: | --- | ---: | ---: | ---: | ---: |\n",
        seed = ctx.seed,
    );
    for c in &cases {
        md += &format!(
            "| {} | {} | {} | {} | {} | {:.1}% |\n",
            c.delay,
            c.cell,
            c.params,
            num(c.baseline),
            num(c.final_test_ce),
            100.0 * c.recall_accuracy
        );
    }
    md += &format!(
        "\nReference: the copying problem as Arjovsky, Shah & Bengio (\"Unitary evolution recurrent \
         neural networks\", ICML 2016) use it, to compare recurrences that preserve the norm with \
         LSTM; the expRNN's authors run it in their code (Lezcano/expRNN, `1_copying.py`). The \
         memoryless baseline is 10 ln 8 / (T + 20). Henaff, Szlam & LeCun (2016) construct RNN \
         solutions and show the task is learnable with a suitable (orthogonal or identity) recurrent \
         initialisation. Our quick run uses a short delay (T = {q}) and {seen} training sequences; \
         a cell at the baseline here did not find the memorising solution within this budget, which \
         says nothing about longer training (`--full`: T = 100 to 500, 20,000 updates).\n",
        q = delays[0],
        seen = updates * batch,
    );
    Ok(Outcome {
        summary: cases
            .iter()
            .map(|c| {
                format!(
                    "{} T={}: {} (baseline {})",
                    c.cell,
                    c.delay,
                    num(c.final_test_ce),
                    num(c.baseline)
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        markdown: md,
        json: serde_json::json!({
            "config": {"delays": delays, "copy_len": 10, "alphabet": 8, "hidden": hidden, "batch": batch,
                       "updates": updates, "eval_every": eval_every, "test_sequences": test_n,
                       "optimizer": "Adam", "lr": lr, "clip_norm": clip},
            "runs": cases,
        }),
        plots: vec!["copy.svg".into()],
    })
}
