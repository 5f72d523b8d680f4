//! `rnnzoo cells` as a table (rnnzoo_bench::cells).

use rnnzoo::zoo;
use rnnzoo_bench::cells::*;

#[test]
fn the_table_has_a_line_per_kind() {
    let t = table();
    for e in zoo::entries() {
        assert!(t.lines().any(|l| l.starts_with(e.name)), "{}", e.name);
    }
}
