//! `depth`: character-level LSTM language models on Shakespeare, one layer against two, both
//! sized to a similar parameter count (so the deeper one is narrower).

use super::kit::in_parallel;
use super::lm::{LmConfig, Spec, render, text, train};
use super::{Context, Outcome};
use rnnzoo::zoo::CellChoice;

/// Trains both models and renders the comparison.
pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let cfg = LmConfig::for_scale(ctx.scale);
    let text = text(&cfg)?;
    // The two models train at once, one per core, without progress bars (two would interleave).
    let quiet = Context {
        progress: false,
        ..ctx.clone()
    };
    let results = in_parallel(vec![1, 2], |layers| {
        let r = train(
            Spec {
                kind: CellChoice::named("lstm")?,
                layers,
            },
            &text,
            &cfg,
            &quiet,
            ctx.seed,
        )?;
        if ctx.progress {
            eprintln!("depth {}: {:.3} bpc", r.name, r.valid_bpc);
        }
        Ok(r)
    })?;
    let mut md = render(&results, &cfg, &text, ctx, "depth.svg")?;
    md += &super::lm_refs::depth(&results, &cfg);
    Ok(Outcome {
        summary: results
            .iter()
            .map(|r| format!("{} {:.3} bpc", r.name, r.valid_bpc))
            .collect::<Vec<_>>()
            .join(", "),
        markdown: md,
        json: serde_json::json!({"config": cfg, "models": results}),
        plots: vec!["depth.svg".into()],
    })
}
