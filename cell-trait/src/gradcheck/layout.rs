//! Where an element of a group sits: tensor row and column, gate block, time step, sample.

use std::fmt;

/// How a group's values are laid out, so that a finding names a row, a column and a gate (or a
/// step and a sample) instead of a flat index. A [`Differentiable`](super::Differentiable) says it
/// through [`layout`](super::Differentiable::layout); the default is [`Layout::Flat`].
///
/// ```
/// use rnnzoo_cell::gradcheck::Layout;
///
/// // weight_hh of an LSTM with H = 3: (4*3, 3), gates i, f, g, o of 3 rows each.
/// let w = Layout::Param { rows: 12, cols: 3, gates: 4 };
/// assert_eq!(w.locate(7 * 3 + 2).to_string(), "row 7 (gate 2 of 4, unit 1), column 2");
/// let x = Layout::Sequence { steps: 5, batch: 2, features: 3 };
/// assert_eq!(x.locate((4 * 2 + 1) * 3).to_string(), "step 4, sample 1, feature 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// A flat vector: only the index.
    Flat,
    /// A parameter of `rows x cols` values, row-major (a bias has `cols` 1), whose rows are
    /// `gates` blocks of `rows / gates` (PyTorch's layout: gate `g` is rows `g*H..(g+1)*H`).
    Param {
        /// Rows (`G*H` for a gated cell's weights and biases).
        rows: usize,
        /// Columns (1 for a vector).
        cols: usize,
        /// Gate blocks along the rows (1 when the tensor has none).
        gates: usize,
    },
    /// A sequence, `features x (steps * batch)` column-major (PyTorch's `(T, B, F)`).
    Sequence {
        /// Steps `T`.
        steps: usize,
        /// Batch `B`.
        batch: usize,
        /// Features per step and sample.
        features: usize,
    },
    /// A state, `rows x batch` column-major.
    State {
        /// Samples.
        batch: usize,
        /// Rows per sample.
        rows: usize,
    },
}

/// One element's place in its group (see [`Layout::locate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// An element of a [`Layout::Flat`] group.
    Flat {
        /// The index.
        index: usize,
    },
    /// An element of a parameter.
    Param {
        /// Row of the tensor.
        row: usize,
        /// Column (0 for a vector).
        col: usize,
        /// Whether the tensor is a vector (then there is no column to name).
        vector: bool,
        /// Gate block of the row.
        gate: usize,
        /// Gate blocks of the tensor.
        gates: usize,
        /// Row within the gate block (the hidden unit).
        unit: usize,
        /// The gate's name, where the report was told the cell's gate names
        /// ([`Report::name_gates`](super::Report::name_gates)).
        name: Option<&'static str>,
    },
    /// An element of a sequence.
    Sequence {
        /// Time step.
        step: usize,
        /// Sample.
        sample: usize,
        /// Feature.
        feature: usize,
    },
    /// An element of a state.
    State {
        /// Sample.
        sample: usize,
        /// Row.
        row: usize,
    },
}

impl Location {
    /// This place with its gate named from `names` (the cell's gate blocks in row order, as the
    /// registry's `gate_names` lists them): a parameter element of a tensor of `G > 1` gate
    /// blocks, where `names` has at least `G` names. Any other place is returned as it is.
    ///
    /// ```
    /// use rnnzoo_cell::gradcheck::Layout;
    ///
    /// let w = Layout::Param { rows: 12, cols: 3, gates: 4 };
    /// let at = w.locate(7 * 3 + 2).named(&["i", "f", "g", "o"]);
    /// assert_eq!(at.to_string(), "row 7 (gate g: 2 of 4, unit 1), column 2");
    /// ```
    pub fn named(mut self, names: &'static [&'static str]) -> Self {
        if let Location::Param {
            gate, gates, name, ..
        } = &mut self
            && *gates > 1
            && names.len() >= *gates
        {
            *name = Some(names[*gate]);
        }
        self
    }
}

impl Layout {
    /// The place of element `index`. A layout that does not describe the group (its sizes do not
    /// cover `index`) gives the flat index rather than a wrong place.
    pub fn locate(&self, index: usize) -> Location {
        match *self {
            Layout::Param { rows, cols, gates }
                if cols > 0 && index < rows * cols && gates > 0 && rows % gates == 0 =>
            {
                let (row, col) = (index / cols, index % cols);
                let per = rows / gates;
                Location::Param {
                    row,
                    col,
                    vector: cols == 1,
                    gate: row / per,
                    gates,
                    unit: row % per,
                    name: None,
                }
            }
            Layout::Sequence {
                steps,
                batch,
                features,
            } if features > 0 && batch > 0 && index < steps * batch * features => {
                let column = index / features;
                Location::Sequence {
                    step: column / batch,
                    sample: column % batch,
                    feature: index % features,
                }
            }
            Layout::State { batch, rows } if rows > 0 && index < batch * rows => Location::State {
                sample: index / rows,
                row: index % rows,
            },
            _ => Location::Flat { index },
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Location::Flat { index } => write!(f, "element {index}"),
            Location::Param {
                row,
                col,
                vector,
                gate,
                gates,
                unit,
                name,
            } => {
                write!(f, "row {row}")?;
                match name {
                    Some(name) => write!(f, " (gate {name}: {gate} of {gates}, unit {unit})")?,
                    None if gates > 1 => write!(f, " (gate {gate} of {gates}, unit {unit})")?,
                    None => {}
                }
                if !vector {
                    write!(f, ", column {col}")?;
                }
                Ok(())
            }
            Location::Sequence {
                step,
                sample,
                feature,
            } => write!(f, "step {step}, sample {sample}, feature {feature}"),
            Location::State { sample, row } => write!(f, "sample {sample}, row {row}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_names_its_places_and_a_misfit_falls_back_to_the_index() {
        let b = Layout::Param {
            rows: 6,
            cols: 1,
            gates: 3,
        };
        assert_eq!(b.locate(5).to_string(), "row 5 (gate 2 of 3, unit 1)");
        let one = Layout::Param {
            rows: 2,
            cols: 4,
            gates: 1,
        };
        assert_eq!(one.locate(6).to_string(), "row 1, column 2");
        let s = Layout::State { batch: 2, rows: 3 };
        assert_eq!(s.locate(4).to_string(), "sample 1, row 1");
        assert_eq!(s.locate(6), Location::Flat { index: 6 });
        assert_eq!(Layout::Flat.locate(3).to_string(), "element 3");
        let bad = Layout::Param {
            rows: 5,
            cols: 1,
            gates: 2,
        };
        assert_eq!(bad.locate(1), Location::Flat { index: 1 });
    }
}
