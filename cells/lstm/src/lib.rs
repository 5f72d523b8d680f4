//! The LSTM cell.
