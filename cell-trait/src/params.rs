//! Named parameters in PyTorch's names and layout.
//!
//! A [`Param`] is a tensor of one or two dimensions stored row-major, exactly as PyTorch stores it:
//! `weight_ih` is `(G*H, input)` with gate `g` in rows `[g*H, (g+1)*H)`, `bias_ih` is `(G*H)`. So
//! a PyTorch `state_dict` loads with no reshuffling, gate blocks are contiguous, and the GEMMs read
//! weights through strides ([`Param::view`]).
//!
//! Gradients use the same type: [`Params::zeros_like`] gives a gradient store with the same names
//! and shapes, which optimizers and checkpoints walk in the same order.

use crate::gemm::MatRef;
use crate::{CellError, Real};

/// One named tensor, row-major, in PyTorch's layout.
///
/// ```
/// use rnnzoo_cell::Param;
/// let mut w = Param::<f32>::zeros("weight_hh", &[6, 2], 3).unwrap(); // 3 gates, H = 2
/// w.gate_mut(1).fill(1.0);
/// assert_eq!(w.data(), &[0., 0., 0., 0., 1., 1., 1., 1., 0., 0., 0., 0.]);
/// assert_eq!((w.rows(), w.cols(), w.gate_rows()), (6, 2, 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Param<T> {
    name: String,
    shape: Vec<usize>,
    gates: usize,
    data: Vec<T>,
}

impl<T: Real> Param<T> {
    /// A parameter of zeros. `gates` is the number of gate blocks stacked along the first
    /// dimension (1 for a plain matrix); initialisers like [`crate::Init::Orthogonal`] work per
    /// block.
    ///
    /// # Errors
    ///
    /// [`CellError::BadParam`] if the shape is not 1- or 2-dimensional, or `gates` is zero or does
    /// not divide the first dimension.
    pub fn zeros(name: &str, shape: &[usize], gates: usize) -> Result<Self, CellError> {
        let n = shape.iter().product();
        Self::from_vec(name, shape, gates, vec![T::zero(); n])
    }

    /// A parameter holding `data` (row-major).
    ///
    /// # Errors
    ///
    /// As [`Param::zeros`], and if `data.len()` is not the product of `shape`.
    pub fn from_vec(
        name: &str,
        shape: &[usize],
        gates: usize,
        data: Vec<T>,
    ) -> Result<Self, CellError> {
        let bad = |reason: String| CellError::BadParam {
            name: name.to_string(),
            reason,
        };
        if shape.is_empty() || shape.len() > 2 {
            return Err(bad(format!("shape {shape:?} is not 1- or 2-dimensional")));
        }
        if gates == 0 || !shape[0].is_multiple_of(gates) {
            return Err(bad(format!(
                "{gates} gate blocks do not divide {} rows",
                shape[0]
            )));
        }
        let n: usize = shape.iter().product();
        if data.len() != n {
            return Err(bad(format!(
                "shape {shape:?} holds {n} values, got {}",
                data.len()
            )));
        }
        Ok(Self {
            name: name.to_string(),
            shape: shape.to_vec(),
            gates,
            data,
        })
    }

    /// PyTorch's name for it, without a layer suffix (`weight_ih`, not `weight_ih_l0`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// PyTorch's shape: `[rows, cols]` for a matrix, `[rows]` for a vector.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of gate blocks along the first dimension.
    pub fn gates(&self) -> usize {
        self.gates
    }

    /// Rows (the first dimension).
    pub fn rows(&self) -> usize {
        self.shape[0]
    }

    /// Columns (the second dimension; 1 for a vector).
    pub fn cols(&self) -> usize {
        self.shape.get(1).copied().unwrap_or(1)
    }

    /// Rows per gate block (`rows / gates`).
    pub fn gate_rows(&self) -> usize {
        self.rows() / self.gates
    }

    /// The values, row-major.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The values, row-major, for writing.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The values of gate block `g` (contiguous, because storage is row-major), read-only.
    ///
    /// ```
    /// use rnnzoo_cell::Param;
    /// let w = Param::<f32>::from_vec("bias_hh", &[4], 2, vec![1., 2., 3., 4.]).unwrap();
    /// assert_eq!((w.gate(0), w.gate(1)), (&[1., 2.][..], &[3., 4.][..]));
    /// ```
    ///
    /// # Panics
    ///
    /// If `g >= self.gates()`.
    pub fn gate(&self, g: usize) -> &[T] {
        assert!(g < self.gates, "gate {g} of {}", self.gates);
        let n = self.gate_rows() * self.cols();
        &self.data[g * n..(g + 1) * n]
    }

    /// The values of gate block `g`, for writing.
    ///
    /// # Panics
    ///
    /// If `g >= self.gates()`.
    pub fn gate_mut(&mut self, g: usize) -> &mut [T] {
        assert!(g < self.gates, "gate {g} of {}", self.gates);
        let n = self.gate_rows() * self.cols();
        &mut self.data[g * n..(g + 1) * n]
    }

    /// The parameter as a `rows x cols` matrix view for [`crate::gemm::gemm`].
    pub fn view(&self) -> MatRef<'_, T> {
        MatRef::row_major(&self.data, self.rows(), self.cols())
            .expect("shape checked at construction")
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether it holds no values.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A cell's parameters (or their gradients), in a fixed order with unique names.
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// let mut p = Params::<f64>::new();
/// p.push(Param::zeros("weight_ih", &[4, 3], 1).unwrap()).unwrap();
/// p.push(Param::zeros("bias_ih", &[4], 1).unwrap()).unwrap();
/// p.set("bias_ih", &[1.0, 2.0, 3.0, 4.0]).unwrap();
/// assert_eq!(p.get("bias_ih").unwrap().data()[3], 4.0);
/// assert_eq!(p.num_values(), 16);
/// assert!(p.set("bias_hh", &[0.0]).is_err()); // typed error naming what exists
/// let g = p.zeros_like();
/// assert_eq!(g.names().collect::<Vec<_>>(), ["weight_ih", "bias_ih"]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params<T> {
    list: Vec<Param<T>>,
}

impl<T: Real> Params<T> {
    /// No parameters.
    pub fn new() -> Self {
        Self { list: Vec::new() }
    }

    /// Adds a parameter and returns its index.
    ///
    /// # Errors
    ///
    /// [`CellError::DuplicateParam`] if the name is taken.
    pub fn push(&mut self, p: Param<T>) -> Result<usize, CellError> {
        if self.index_of(p.name()).is_some() {
            return Err(CellError::DuplicateParam {
                name: p.name().to_string(),
            });
        }
        self.list.push(p);
        Ok(self.list.len() - 1)
    }

    /// The index of the parameter with this name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|p| p.name == name)
    }

    /// The parameter with this name.
    pub fn get(&self, name: &str) -> Option<&Param<T>> {
        self.list.iter().find(|p| p.name == name)
    }

    /// The parameter with this name, for writing.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Param<T>> {
        self.list.iter_mut().find(|p| p.name == name)
    }

    /// The parameter at `index` (cells keep their parameters' indices for the hot path).
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    pub fn at(&self, index: usize) -> &Param<T> {
        &self.list[index]
    }

    /// The parameter at `index`, for writing.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    pub fn at_mut(&mut self, index: usize) -> &mut Param<T> {
        &mut self.list[index]
    }

    /// Replaces the values of the parameter `name`.
    ///
    /// # Errors
    ///
    /// [`CellError::UnknownParam`] if there is no such parameter, [`CellError::ParamShape`] if
    /// `values` has the wrong length.
    pub fn set(&mut self, name: &str, values: &[T]) -> Result<(), CellError> {
        let known = self.names().map(String::from).collect();
        let p = self.get_mut(name).ok_or_else(|| CellError::UnknownParam {
            name: name.to_string(),
            known,
        })?;
        if p.data.len() != values.len() {
            return Err(CellError::ParamShape {
                name: name.to_string(),
                expected: p.shape.clone(),
                got: vec![values.len()],
            });
        }
        p.data.copy_from_slice(values);
        Ok(())
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|p| p.name.as_str())
    }

    /// The parameters, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Param<T>> {
        self.list.iter()
    }

    /// The parameters, in order, for writing.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Param<T>> {
        self.list.iter_mut()
    }

    /// Number of parameters (tensors).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Number of values over all parameters.
    pub fn num_values(&self) -> usize {
        self.list.iter().map(Param::len).sum()
    }

    /// The same names and shapes, all zero: a gradient store.
    pub fn zeros_like(&self) -> Self {
        let list = self
            .list
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                shape: p.shape.clone(),
                gates: p.gates,
                data: vec![T::zero(); p.len()],
            })
            .collect();
        Self { list }
    }

    /// Sets every value to zero (a gradient store between steps).
    pub fn zero(&mut self) {
        for p in &mut self.list {
            p.data.fill(T::zero());
        }
    }

    /// Whether `other` has the same names and shapes in the same order.
    pub fn same_layout(&self, other: &Self) -> bool {
        self.list.len() == other.list.len()
            && self
                .list
                .iter()
                .zip(&other.list)
                .all(|(a, b)| a.name == b.name && a.shape == b.shape)
    }
}

impl<T> std::ops::Index<usize> for Params<T> {
    type Output = Param<T>;
    fn index(&self, i: usize) -> &Param<T> {
        &self.list[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_shapes_and_duplicates() {
        assert!(Param::<f32>::zeros("w", &[5, 2], 2).is_err());
        assert!(Param::<f32>::zeros("w", &[2, 2, 2], 1).is_err());
        assert!(Param::<f32>::from_vec("w", &[2], 1, vec![0.0; 3]).is_err());
        let mut p = Params::<f32>::new();
        p.push(Param::zeros("w", &[2], 1).unwrap()).unwrap();
        assert_eq!(
            p.push(Param::zeros("w", &[3], 1).unwrap()),
            Err(CellError::DuplicateParam { name: "w".into() })
        );
        assert!(matches!(
            p.set("w", &[1.0; 3]),
            Err(CellError::ParamShape { .. })
        ));
    }

    #[test]
    fn view_reads_pytorch_row_major() {
        let w = Param::<f64>::from_vec("w", &[2, 3], 1, vec![1., 2., 3., 4., 5., 6.]).unwrap();
        assert_eq!(*w.view().at(1, 0), 4.0);
        assert_eq!(*w.view().t().at(2, 1), 6.0);
    }
}
