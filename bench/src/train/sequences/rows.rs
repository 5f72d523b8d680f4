//! CSV files and 2-D npy arrays: one sequence per row, the target first.

use std::path::Path;

use super::{DataError, Layout, Sequences, Task, TaskKind, content};

/// A row's line and cells (`None` for an empty cell).
pub(super) type Row = (usize, Vec<Option<f64>>);

pub(super) fn read_csv(path: &Path) -> Result<Vec<Row>, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(source) => DataError::Io {
                path: path.to_path_buf(),
                source,
            },
            other => content(path, "the file".into(), format!("{other:?}")),
        })?;
    let mut rows = Vec::new();
    let mut width = None;
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(k + 1, |p| p.line() as usize);
            content(path, format!("line {line}"), e.to_string())
        })?;
        let line = record.position().map_or(k + 1, |p| p.line() as usize);
        let parsed: Result<Vec<Option<f64>>, usize> = record
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if cell.is_empty() {
                    Ok(None)
                } else {
                    cell.parse::<f64>().map(Some).map_err(|_| c)
                }
            })
            .collect();
        let cells = match parsed {
            Ok(cells) => cells,
            // A first row of words is a header.
            Err(_) if rows.is_empty() && width.is_none() => {
                width = Some(record.len());
                continue;
            }
            Err(c) => {
                return Err(content(
                    path,
                    format!("line {line}, column {}", c + 1),
                    format!("{:?} is not a number", &record[c]),
                ));
            }
        };
        let expected = *width.get_or_insert(cells.len());
        if cells.len() != expected {
            return Err(DataError::Ragged {
                path: path.to_path_buf(),
                line,
                got: cells.len(),
                expected,
            });
        }
        rows.push((line, cells));
    }
    Ok(rows)
}

pub(super) fn from_rows(
    path: &Path,
    rows: Vec<Row>,
    layout: &Layout,
) -> Result<Sequences, DataError> {
    let (tc, f) = (layout.target_columns, layout.features);
    if tc == 0 || f == 0 {
        return Err(content(
            path,
            "the layout".into(),
            "data.target_columns and data.features must be at least 1".into(),
        ));
    }
    let mut inputs = Vec::with_capacity(rows.len());
    let mut targets = Vec::with_capacity(rows.len());
    for (line, cells) in rows {
        let at = |c: usize| format!("line {line}, column {}", c + 1);
        if cells.len() <= tc {
            return Err(content(
                path,
                format!("line {line}"),
                format!(
                    "{} cells; expected {tc} target cell(s) and then the sequence",
                    cells.len()
                ),
            ));
        }
        for (c, v) in cells.iter().enumerate() {
            if let Some(v) = v
                && !v.is_finite()
            {
                return Err(content(path, at(c), format!("{v} is not a finite number")));
            }
        }
        let mut target = Vec::with_capacity(tc);
        for (c, v) in cells[..tc].iter().enumerate() {
            target.push(v.ok_or_else(|| content(path, at(c), "the target is empty".into()))?);
        }
        let seq = &cells[tc..];
        let len = seq.iter().rposition(Option::is_some).map_or(0, |p| p + 1);
        if let Some(gap) = seq[..len].iter().position(Option::is_none) {
            return Err(content(
                path,
                at(tc + gap),
                "an empty cell inside the sequence; only trailing cells may be empty".into(),
            ));
        }
        if len == 0 || len % f != 0 {
            return Err(content(
                path,
                format!("line {line}"),
                format!(
                    "{len} sequence values; expected a positive multiple of data.features = {f}"
                ),
            ));
        }
        inputs.push(
            seq[..len]
                .iter()
                .map(|v| v.expect("checked"))
                .collect::<Vec<f64>>(),
        );
        targets.push((line, target));
    }
    let integral = tc == 1
        && targets
            .iter()
            .all(|(_, t)| t[0] >= 0.0 && t[0].fract() == 0.0 && t[0] < 1e9);
    let classify = match layout.task {
        TaskKind::Auto => integral,
        TaskKind::Classify => {
            if let Some((line, t)) = targets
                .iter()
                .find(|(_, t)| !(tc == 1 && t[0] >= 0.0 && t[0].fract() == 0.0))
            {
                return Err(content(
                    path,
                    format!("line {line}, column 1"),
                    format!("class {:?}: a class is one non-negative integer", t),
                ));
            }
            true
        }
        TaskKind::Regress => false,
        TaskKind::RegressSteps => {
            return Err(content(
                path,
                "the layout".into(),
                "per-step targets need a safetensors file with y (T, N, O)".into(),
            ));
        }
    };
    Ok(if classify {
        let classes: Vec<usize> = targets.iter().map(|(_, t)| t[0] as usize).collect();
        Sequences {
            features: f,
            task: Task::Classify {
                classes: classes.iter().max().map_or(0, |m| m + 1),
            },
            inputs,
            classes,
            values: Vec::new(),
        }
    } else {
        Sequences {
            features: f,
            task: Task::Regress { outputs: tc },
            inputs,
            classes: Vec::new(),
            values: targets.into_iter().map(|(_, t)| t).collect(),
        }
    })
}
