//! `charlm`: character-level language models on Shakespeare, LSTM against GRU against a tanh RNN,
//! each sized to a similar parameter count: validation bits per character and generated text.

use super::lm::{LmConfig, Spec, render, text, train};
use super::{Context, Outcome};

/// Trains the three models and renders the comparison.
pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let cfg = LmConfig::for_scale(ctx.scale);
    let text = text(&cfg)?;
    let mut results = Vec::new();
    for kind in rnnzoo::zoo::choices(&["lstm", "gru", "rnn-tanh"])? {
        results.push(train(Spec { kind, layers: 1 }, &text, &cfg, ctx, ctx.seed)?);
    }
    let mut md = render(&results, &cfg, &text, ctx, "charlm.svg")?;
    md += &super::lm_refs::charlm(&results, &cfg);
    Ok(Outcome {
        summary: results
            .iter()
            .map(|r| format!("{} {:.3} bpc", r.name, r.valid_bpc))
            .collect::<Vec<_>>()
            .join(", "),
        markdown: md,
        json: serde_json::json!({"config": cfg, "models": results}),
        plots: vec!["charlm.svg".into()],
    })
}
