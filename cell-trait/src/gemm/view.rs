//! Strided matrix views: bounds checked once, at construction.

/// A view that cannot be made from its slice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The view addresses elements past the end of the slice.
    #[error(
        "a {rows}x{cols} view with strides ({rs}, {cs}) needs {needed} elements, the slice has \
         {len}"
    )]
    TooShort {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
        /// Row stride asked for.
        rs: usize,
        /// Column stride asked for.
        cs: usize,
        /// Elements the view addresses (one past its last element).
        needed: usize,
        /// Elements in the slice.
        len: usize,
    },
    /// A mutable view whose strides could give two elements the same storage.
    #[error(
        "a mutable {rows}x{cols} view with strides ({rs}, {cs}) could address one element twice"
    )]
    Overlapping {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
        /// Row stride asked for.
        rs: usize,
        /// Column stride asked for.
        cs: usize,
    },
}

/// Whether every element of a `rows x cols` view with these strides has storage of its own. A
/// sufficient condition: one stride steps over a whole row or column of the other (every layout
/// rnnzoo makes: column-major, row-major, a block of either, a column stride padded past the
/// rows).
fn distinct(rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    match (rows > 1, cols > 1) {
        (false, false) => true,
        (true, false) => rs >= 1,
        (false, true) => cs >= 1,
        (true, true) => {
            (rs >= 1 && cs >= rows.saturating_mul(rs)) || (cs >= 1 && rs >= cols.saturating_mul(cs))
        }
    }
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
        Err(ViewError::TooShort {
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
    /// Unlike a [`MatRef`], no two elements may share storage: products split a `C` over threads
    /// by rows or columns, and each element must belong to one of them.
    ///
    /// ```
    /// use rnnzoo_cell::gemm::{MatMut, ViewError};
    /// let mut state = [0.0; 12];
    /// // The first 2 rows of a 3-row column-major matrix: fine.
    /// assert!(MatMut::new(&mut state, 2, 4, 1, 3).is_ok());
    /// // A column stride of 1 with 4 rows: (1, 0) and (0, 1) would be the same element.
    /// let err = MatMut::new(&mut state, 4, 3, 1, 1).unwrap_err();
    /// assert!(matches!(err, ViewError::Overlapping { .. }));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ViewError::TooShort`] if an addressed element would fall outside `data`;
    /// [`ViewError::Overlapping`] unless one stride steps over a whole row or column of the other
    /// (which every column-major, row-major or block layout does).
    pub fn new(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Result<Self, ViewError> {
        extent(rows, cols, rs, cs, data.len())?;
        if !distinct(rows, cols, rs, cs) {
            return Err(ViewError::Overlapping { rows, cols, rs, cs });
        }
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
