//! Safetensors files in PyTorch's layout: `x` `(T, N, F)`, `y`, optional `lengths`.

use std::path::Path;

use rnnzoo::layers::file::{Tensor, TensorData, Tensors};

use super::{DataError, Layout, Sequences, Task, TaskKind, content};

fn finite(path: &Path, name: &str, t: &Tensor) -> Result<Vec<f64>, DataError> {
    if matches!(t.data, TensorData::I64(_)) {
        return Err(content(
            path,
            format!("tensor `{name}`"),
            "I64; expected F32 or F64".into(),
        ));
    }
    let v = t.to_vec::<f64>();
    if let Some(k) = v.iter().position(|x| !x.is_finite()) {
        return Err(content(
            path,
            format!("tensor `{name}`"),
            format!(
                "value {k} (flat, row-major) is {}; expected finite numbers",
                v[k]
            ),
        ));
    }
    Ok(v)
}

pub(super) fn from_tensors(path: &Path, layout: &Layout) -> Result<Sequences, DataError> {
    let t = Tensors::read(path, true).map_err(|source| DataError::File {
        path: path.to_path_buf(),
        source,
    })?;
    let get = |name: &str| {
        t.tensors.get(name).ok_or_else(|| {
            content(
                path,
                format!("tensor `{name}`"),
                format!(
                    "missing (found: {:?}); expected x (T, N, F), y and optionally lengths (N,)",
                    t.tensors.keys().collect::<Vec<_>>()
                ),
            )
        })
    };
    let x = get("x")?;
    let [steps, n, f] = x.shape[..] else {
        return Err(content(
            path,
            "tensor `x`".into(),
            format!("shape {:?}; expected (T, N, F)", x.shape),
        ));
    };
    let xs = finite(path, "x", x)?;
    let lengths: Vec<usize> = match t.tensors.get("lengths") {
        None => vec![steps; n],
        Some(l) => {
            let TensorData::I64(v) = &l.data else {
                return Err(content(
                    path,
                    "tensor `lengths`".into(),
                    format!("{}; expected I64 ({n},)", l.dtype()),
                ));
            };
            if l.shape != [n] || v.iter().any(|&k| k < 1 || k as usize > steps) {
                return Err(content(
                    path,
                    "tensor `lengths`".into(),
                    format!(
                        "{:?} of shape {:?}; expected {n} lengths in 1..={steps}",
                        v, l.shape
                    ),
                ));
            }
            v.iter().map(|&k| k as usize).collect()
        }
    };
    let inputs = (0..n)
        .map(|b| {
            (0..lengths[b])
                .flat_map(|s| xs[(s * n + b) * f..(s * n + b + 1) * f].iter().copied())
                .collect()
        })
        .collect();
    let y = get("y")?;
    let shape_err = |expected: &str| {
        content(
            path,
            "tensor `y`".into(),
            format!("{} {:?}; expected {expected}", y.dtype(), y.shape),
        )
    };
    let (classes, values, task) = match &y.data {
        TensorData::I64(v) => {
            if y.shape != [n] || v.iter().any(|&c| c < 0) {
                return Err(shape_err(&format!("I64 ({n},) class indices >= 0")));
            }
            let cs: Vec<usize> = v.iter().map(|&c| c as usize).collect();
            let k = cs.iter().max().map_or(0, |m| m + 1);
            (cs, Vec::new(), Task::Classify { classes: k })
        }
        _ => {
            let ys = finite(path, "y", y)?;
            match y.shape[..] {
                [m, o] if m == n => (
                    Vec::new(),
                    (0..n).map(|b| ys[b * o..(b + 1) * o].to_vec()).collect(),
                    Task::Regress { outputs: o },
                ),
                [s, m, o] if s == steps && m == n => (
                    Vec::new(),
                    (0..n)
                        .map(|b| {
                            (0..lengths[b])
                                .flat_map(|t| {
                                    ys[(t * n + b) * o..(t * n + b + 1) * o].iter().copied()
                                })
                                .collect()
                        })
                        .collect(),
                    Task::RegressSteps { outputs: o },
                ),
                _ => {
                    return Err(shape_err(&format!(
                        "({n}, O) or ({steps}, {n}, O) floats, or I64 ({n},)"
                    )));
                }
            }
        }
    };
    let wanted = layout.task;
    let fits = matches!(
        (wanted, task),
        (TaskKind::Auto, _)
            | (TaskKind::Classify, Task::Classify { .. })
            | (TaskKind::Regress, Task::Regress { .. })
            | (TaskKind::RegressSteps, Task::RegressSteps { .. })
    );
    if !fits {
        return Err(shape_err(&format!("targets of the task {wanted:?}")));
    }
    Ok(Sequences {
        features: f,
        task,
        inputs,
        classes,
        values,
    })
}
