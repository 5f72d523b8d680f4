//! The GRU cell.
