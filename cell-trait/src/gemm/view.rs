//! Strided matrix views: bounds checked once, at construction.

/// A view does not fit the slice it was made from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a {rows}x{cols} view with strides ({rs}, {cs}) needs {needed} elements, the slice has {len}"
)]
pub struct ViewError {
    /// Rows asked for.
    pub rows: usize,
    /// Columns asked for.
    pub cols: usize,
    /// Row stride asked for.
    pub rs: usize,
    /// Column stride asked for.
    pub cs: usize,
    /// Elements the view addresses (one past its last element).
    pub needed: usize,
    /// Elements in the slice.
    pub len: usize,
}

fn extent(rows: usize, cols: usize, rs: usize, cs: usize, len: usize) -> Result<(), ViewError> {
    let needed = if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1)
            .checked_mul(rs)
            .and_then(|r| (cols - 1).checked_mul(cs).and_then(|c| r.checked_add(c)))
            .and_then(|last| last.checked_add(1))
            .unwrap_or(usize::MAX)
    };
    // Strides must also fit an isize for the kernel.
    if needed <= len && rs <= isize::MAX as usize && cs <= isize::MAX as usize {
        Ok(())
    } else {
        Err(ViewError {
            rows,
            cols,
            rs,
            cs,
            needed,
            len,
        })
    }
}

/// A read-only strided matrix view (see the module docs for the convention).
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    pub(super) data: &'a [T],
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) rs: usize,
    pub(super) cs: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A view with explicit strides.
    ///
    /// # Errors
    ///
    /// [`ViewError`] if an addressed element would fall outside `data`.
    pub fn new(
        data: &'a [T],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Result<Self, ViewError> {
        extent(rows, cols, rs, cs, data.len())?;
        Ok(Self {
            data,
            rows,
            cols,
            rs,
            cs,
        })
    }

    /// A column-major `rows x cols` view (`rs = 1`, `cs = rows`).
    ///
    /// # Errors
    ///
    /// [`ViewError`] if `data` is shorter than `rows * cols`.
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, 1, rows)
    }

    /// A row-major `rows x cols` view (`rs = cols`, `cs = 1`): a PyTorch weight as stored.
    ///
    /// # Errors
    ///
    /// [`ViewError`] if `data` is shorter than `rows * cols`.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transpose: the same elements with rows and columns (and their strides) swapped.
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Columns `start .. start + len` as a view of the same storage.
    ///
    /// ```
    /// use rnnzoo_cell::gemm::MatRef;
    /// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3, column-major
    /// let last_two = MatRef::col_major(&x, 2, 3).unwrap().cols_range(1, 2);
    /// assert_eq!((last_two.cols(), *last_two.at(0, 0), *last_two.at(1, 1)), (2, 3.0, 6.0));
    /// ```
    ///
    /// # Panics
    ///
    /// If the columns are not all in the view.
    pub fn cols_range(self, start: usize, len: usize) -> Self {
        assert!(
            start + len <= self.cols,
            "columns {start}..{} of a {}x{} view",
            start + len,
            self.rows,
            self.cols
        );
        let offset = if len == 0 { 0 } else { start * self.cs };
        Self {
            data: &self.data[offset.min(self.data.len())..],
            cols: len,
            ..self
        }
    }

    /// Element `(i, j)`.
    ///
    /// # Panics
    ///
    /// If `i >= rows` or `j >= cols`.
    pub fn at(&self, i: usize, j: usize) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "({i}, {j}) outside a {}x{} view",
            self.rows,
            self.cols
        );
        &self.data[i * self.rs + j * self.cs]
    }
}

/// A mutable strided matrix view (see the module docs for the convention).
#[derive(Debug)]
pub struct MatMut<'a, T> {
    pub(super) data: &'a mut [T],
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) rs: usize,
    pub(super) cs: usize,
}

impl<'a, T> MatMut<'a, T> {
    /// A mutable view with explicit strides.
    ///
    /// The strides must not make two elements share storage (for example `rs = 0`); [`gemm()`](super::gemm()) would
    /// then write one element twice. Views made by [`MatMut::col_major`] and
    /// [`MatMut::row_major`] never do.
    ///
    /// # Errors
    ///
    /// [`ViewError`] if an addressed element would fall outside `data`.
    pub fn new(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Result<Self, ViewError> {
        extent(rows, cols, rs, cs, data.len())?;
        Ok(Self {
            data,
            rows,
            cols,
            rs,
            cs,
        })
    }

    /// A column-major `rows x cols` view.
    ///
    /// # Errors
    ///
    /// [`ViewError`] if `data` is shorter than `rows * cols`.
    pub fn col_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, 1, rows)
    }

    /// A row-major `rows x cols` view (a PyTorch weight's gradient as stored).
    ///
    /// # Errors
    ///
    /// [`ViewError`] if `data` is shorter than `rows * cols`.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, cols, 1)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}
