//! The speed cases' sizes and FLOP counts (rnnzoo_bench::speed::case).

use rnnzoo::zoo::CellChoice;
use rnnzoo_bench::speed::case::*;

#[test]
fn flops_count_both_products_of_every_layer_and_direction() {
    let lstm = CellChoice::named("lstm").unwrap();
    let c = Case::one(lstm, 50, 64, 256, 256);
    assert_eq!(c.forward_flops(), 2.0 * 50.0 * 64.0 * 1024.0 * 512.0);
    let bi = Case {
        layers: 2,
        bidirectional: true,
        ..c
    };
    let l0 = 2.0 * 3200.0 * 1024.0 * 512.0 * 2.0;
    let l1 = 2.0 * 3200.0 * 1024.0 * (512.0 + 256.0) * 2.0;
    assert_eq!(bi.forward_flops(), l0 + l1);
    assert_eq!(bi.label(), "lstm T50 B64 I256 H256 L2 bi");
    let rnn = CellChoice::named("rnn-tanh").unwrap();
    assert!(c.is_large() && !Case::one(rnn, 100, 32, 128, 128).is_large());
    // GRU's three gate blocks, from the registry.
    let gru = Case::one(CellChoice::named("gru").unwrap(), 50, 64, 256, 256);
    assert_eq!(gru.forward_flops(), 2.0 * 50.0 * 64.0 * 768.0 * 512.0);
}
