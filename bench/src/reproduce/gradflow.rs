//! `gradflow`: the norm of dL/dh_k against k at initialisation, L a function of the last step
//! only: vanishing and exploding gradients made visible.
//!
//! Method (exact, no finite differences): L = sum_b <u_b, h_T^b> with a random unit vector u_b
//! per sample. For each k, the state s_k after k inputs comes from running the prefix 1..=k; the
//! suffix k+1..=T is then run from s_k as its initial state and backpropagated with cotangent u on
//! its final h. The initial-state gradient of that run is exactly dL/ds_k; its h rows are dL/dh_k
//! (with the LSTM's cell state c_k held fixed, the usual meaning of "the gradient reaching h_k").

use rnnzoo::cell::{Cell, Init, gradcheck::normal_vec, seeded};
use rnnzoo::layers::{Inputs, Layer, Recurrent};
use rnnzoo::vanilla::{Nonlinearity, VanillaCell};
use serde::Serialize;

use super::kit::{num, pick};
use super::plot::{Chart, Series};
use super::{Context, Outcome};
use rnnzoo::zoo::CellChoice;

/// One model's gradient norms.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Flow {
    pub model: String,
    /// Mean over samples of |dL/dh_k|, k = 1..=T.
    pub norm_h: Vec<f64>,
    /// Mean over samples of |dL/ds_k| for the whole state (h and, for the LSTM, c).
    pub norm_state: Vec<f64>,
    /// Geometric mean change per step back in time: (|dL/dh_1| / |dL/dh_T|)^(1/(T-1)).
    pub per_step_factor: f64,
}

/// The model named `name`; `steps` is the chrono initialisation's `t_max`.
fn cell(
    name: &str,
    (input, hidden, steps): (usize, usize, usize),
    seed: u64,
) -> anyhow::Result<Box<dyn Cell<f64>>> {
    let mut rng = seeded(seed);
    Ok(match name {
        "lstm" => CellChoice::named("lstm")?.build(input, hidden, &mut rng)?,
        "lstm (chrono)" => CellChoice::parse("lstm", &format!("forget_bias=chrono,t_max={steps}"))?
            .build(input, hidden, &mut rng)?,
        "lstm (forget bias 1)" => {
            CellChoice::parse("lstm", "forget_bias=1")?.build(input, hidden, &mut rng)?
        }
        "gru" => CellChoice::named("gru")?.build(input, hidden, &mut rng)?,
        rho => {
            // "rnn-tanh rho=R": PyTorch's default init, then W_hh = R * Q with Q orthogonal, so
            // every eigenvalue and every singular value of W_hh has modulus exactly R.
            let r: f64 = rho.trim_start_matches("rnn-tanh rho=").parse()?;
            let mut c = VanillaCell::new(input, hidden, Nonlinearity::Tanh, &mut rng)?;
            let w = c
                .params_mut()
                .get_mut("weight_hh")
                .expect("a vanilla cell has weight_hh");
            Init::Orthogonal { gain: r }.apply(w, &mut rng);
            Box::new(c)
        }
    })
}

fn flow(
    name: &str,
    x: &[f64],
    (input, hidden, steps, batch): (usize, usize, usize, usize),
    seed: u64,
) -> anyhow::Result<Flow> {
    // A random unit cotangent per sample on h_T.
    let mut u = normal_vec(hidden * batch, &mut seeded(seed ^ 0xc07));
    for col in u.chunks_exact_mut(hidden) {
        let n = col.iter().map(|v| v * v).sum::<f64>().sqrt();
        col.iter_mut().for_each(|v| *v /= n);
    }
    let cell = cell(name, (input, hidden, steps), seed)?;
    flow_of(name, cell, x, (steps, batch), &u)
}

/// `|dL/dh_k|` for k = 1..=T of `cell` run on `x` (time-major, `steps x batch` columns), where
/// L is linear in the final h with cotangent `d_h_final` (`hidden x batch`).
pub(super) fn flow_of(
    name: &str,
    cell: Box<dyn Cell<f64>>,
    x: &[f64],
    (steps, batch): (usize, usize),
    d_h_final: &[f64],
) -> anyhow::Result<Flow> {
    let layer = Recurrent::new(cell);
    let (hidden, ss) = (layer.cell().hidden_size(), layer.cell().state_size());
    let mut d_final = vec![0.0; ss * batch];
    for b in 0..batch {
        d_final[b * ss..][..hidden].copy_from_slice(&d_h_final[b * hidden..][..hidden]);
    }
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let mean_norm = |v: &[f64], part: usize| {
        v.chunks_exact(ss).map(|c| norm(&c[..part])).sum::<f64>() / batch as f64
    };
    let step_len = x.len() / steps;
    let (mut norm_h, mut norm_state) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    for k in 1..=steps {
        let (gh, gs) = if k == steps {
            (mean_norm(&d_final, hidden), mean_norm(&d_final, ss))
        } else {
            let s_k = layer
                .infer(Inputs::new(&x[..k * step_len], k, batch))?
                .final_state;
            let rest = steps - k;
            let suffix = Inputs::new(&x[k * step_len..], rest, batch).initial(&s_k);
            let (out, tape) = layer.forward(suffix, None)?;
            let mut grads = layer.zero_grads();
            let d_out = vec![0.0; out.output.len()];
            let g = layer.backward(&tape, &d_out, Some(&d_final), &mut grads)?;
            (mean_norm(&g.d_initial, hidden), mean_norm(&g.d_initial, ss))
        };
        norm_h.push(gh);
        norm_state.push(gs);
    }
    let per_step_factor = (norm_h[0] / norm_h[steps - 1]).powf(1.0 / (steps - 1) as f64);
    Ok(Flow {
        model: name.into(),
        norm_h,
        norm_state,
        per_step_factor,
    })
}

/// Runs the measurement for every model and renders the table and the plot.
pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let (input, hidden, steps, batch) = pick(
        ctx.scale,
        (4, 8, 20, 4),
        (8, 64, 100, 16),
        (8, 128, 200, 32),
    );
    let models = [
        "rnn-tanh rho=0.9",
        "rnn-tanh rho=1.0",
        "rnn-tanh rho=1.5",
        "lstm",
        "lstm (forget bias 1)",
        "lstm (chrono)",
        "gru",
    ];
    // One input sequence, standard normal, shared by every model.
    let x = normal_vec(input * steps * batch, &mut seeded(ctx.seed ^ 0x1397));
    let bar = rnnzoo::layers::train::progress_bar(ctx.progress, models.len() as u64, "gradflow");
    let mut flows = Vec::new();
    for (i, m) in models.iter().enumerate() {
        flows.push(flow(
            m,
            &x,
            (input, hidden, steps, batch),
            ctx.seed + i as u64,
        )?);
        bar.inc(1);
    }
    bar.finish_and_clear();

    let mut chart = Chart::new(
        format!("|dL/dh_k| at initialisation, L = <u, h_T>, T = {steps}, H = {hidden}"),
        "k (step)",
        "|dL/dh_k| (mean over samples)",
        true,
    );
    for f in &flows {
        let pts = f
            .norm_h
            .iter()
            .enumerate()
            .map(|(k, &v)| ((k + 1) as f64, v))
            .collect();
        chart = chart.with(Series::line(&f.model, pts));
    }
    chart.write_svg(&ctx.out.join("gradflow.svg"))?;

    let back = |f: &Flow, d: usize| f.norm_h[steps - 1 - d.min(steps - 1)];
    let (d1, d2) = (steps / 10, steps / 2);
    let mut md = format!(
        "Setting: input size {input}, hidden size {hidden}, T = {steps}, batch {batch} of standard-normal \
         inputs (one sequence shared by all models), f64. PyTorch's default initialisation \
         U(-1/sqrt(H), 1/sqrt(H)) for everything, except the vanilla RNNs' W_hh = rho * Q with Q a \
         random orthogonal matrix, so its spectral radius (and its largest singular value) is exactly \
         rho. L = sum_b <u_b, h_T^b> with u_b a random unit vector; |dL/dh_T| = 1.\n\n\
         Method: dL/dh_k is computed exactly by running the suffix k+1..T from the state s_k and \
         backpropagating (the initial-state gradient of that run is dL/ds_k). For the LSTM the table \
         gives the h part (c_k held fixed); the JSON also holds the whole-state norm.\n\n\
         The factor per step back is the geometric mean of |dL/dh_k| / |dL/dh_(k+1)| over the \
         T-1 steps, (|dL/dh_1| / |dL/dh_T|)^(1/(T-1)): below 1 the gradient vanishes as it goes \
         back in time, above 1 it explodes.\n\n\
         | model | \\|dL/dh_(T-{d1})\\| | \\|dL/dh_(T-{d2})\\| | \\|dL/dh_1\\| | factor per step back |\n\
         | --- | ---: | ---: | ---: | ---: |\n"
    );
    for f in &flows {
        md += &format!(
            "| {} | {} | {} | {} | {:.3} |\n",
            f.model,
            num(back(f, d1)),
            num(back(f, d2)),
            num(f.norm_h[0]),
            f.per_step_factor
        );
    }
    md += &reference(&flows, steps);
    let worst = flows
        .iter()
        .map(|f| format!("{} x{:.3}/step", f.model, f.per_step_factor))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Outcome {
        summary: worst,
        markdown: md,
        json: serde_json::json!({
            "config": {"input": input, "hidden": hidden, "steps": steps, "batch": batch,
                       "loss": "sum_b <u_b, h_T^b>, u_b random unit", "init": "PyTorch default; vanilla W_hh = rho * orthogonal"},
            "models": flows,
        }),
        plots: vec!["gradflow.svg".into()],
    })
}

/// The comparison with the published conditions, in words that follow the measured numbers.
fn reference(flows: &[Flow], steps: usize) -> String {
    let trend = |f: f64| if f < 1.0 { "vanishing" } else { "growing" };
    let mut vanilla = Vec::new();
    let mut bound_ok = true;
    for f in flows.iter().filter(|f| f.model.starts_with("rnn-tanh")) {
        let rho: f64 = f
            .model
            .trim_start_matches("rnn-tanh rho=")
            .parse()
            .unwrap_or(f64::NAN);
        vanilla.push(format!(
            "rho = {rho}: x{:.3} per step ({})",
            f.per_step_factor,
            trend(f.per_step_factor)
        ));
        if rho <= 1.0 {
            // |dL/dh_k| <= rho^(T-k) |u| because |W_hh| = rho and tanh' <= 1.
            bound_ok &= f
                .norm_h
                .iter()
                .enumerate()
                .all(|(k, &n)| n <= rho.powi((steps - 1 - k) as i32) * (1.0 + 1e-9));
        }
    }
    let gated: Vec<String> = flows
        .iter()
        .filter(|f| !f.model.starts_with("rnn-tanh"))
        .map(|f| {
            format!(
                "{} x{:.3} ({})",
                f.model,
                f.per_step_factor,
                trend(f.per_step_factor)
            )
        })
        .collect();
    format!(
        "\nReference: Bengio, Simard & Frasconi (1994) and Pascanu, Mikolov & Bengio (2013, \"On the \
         difficulty of training recurrent neural networks\"): for a tanh RNN, a largest singular value \
         of W_hh below 1 is sufficient for the gradient to vanish exponentially in the distance T - k, \
         and a value above 1 is necessary, not sufficient, for it to explode. These are conditions, not \
         numbers, so the comparison is qualitative. Measured here: {}. The bound |dL/dh_k| <= \
         rho^(T-k) that the condition implies for rho <= 1 (|W_hh| = rho, tanh' <= 1) {}. Above 1 \
         the linear part would grow by rho per step, but tanh' < 1 absorbs most of it, which is why \
         rho > 1 is only necessary for explosion. Gated cells at PyTorch's default initialisation: {}. \
         A forget-gate bias of 1 is recommended (Gers, Schmidhuber & Cummins 2000; Jozefowicz, Zaremba \
         & Sutskever 2015) because it keeps more of the gradient per step; {}. These are properties \
         at initialisation only; training changes them (see `clipping` and `adding`).\n",
        vanilla.join("; "),
        if bound_ok {
            "holds at every k"
        } else {
            "is VIOLATED at some k: a bug"
        },
        gated.join(", "),
        forget_note(flows),
    )
}

/// Whether the forget-gate bias of 1 did keep more of the gradient here.
fn forget_note(flows: &[Flow]) -> String {
    let f = |name: &str| {
        flows
            .iter()
            .find(|f| f.model == name)
            .map(|f| f.per_step_factor)
    };
    let fb1 = match (f("lstm"), f("lstm (forget bias 1)")) {
        (Some(a), Some(b)) if b > a => format!("here it does (x{b:.3} against x{a:.3} per step)"),
        (Some(a), Some(b)) => format!("here it does not (x{b:.3} against x{a:.3} per step)"),
        _ => "it was not measured here".into(),
    };
    match (f("lstm"), f("lstm (chrono)")) {
        (Some(a), Some(c)) => format!(
            "{fb1}. Chrono initialisation (Tallec & Ollivier 2018: forget bias log U(1, T - 1),              input bias its negative) keeps x{c:.3} per step, against x{a:.3} at PyTorch's              initialisation"
        ),
        _ => fb1,
    }
}
