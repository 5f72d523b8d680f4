//! Character-level text: vocabulary, splits, batchify and truncated-BPTT chunks.

use rnnzoo_datasets::{CharCorpus, DatasetError, Targets, Vocabulary, batchify, shakespeare};

#[test]
fn shakespeare_round_trips_through_its_vocabulary() {
    let text = shakespeare();
    assert_eq!(text.len(), 1_271_788);
    let vocab = Vocabulary::from_text(text).unwrap();
    assert_eq!(vocab.len(), 80);
    assert!(
        vocab.chars().windows(2).all(|w| w[0] < w[1]),
        "sorted and unique"
    );
    assert_eq!(vocab.chars()[0], '\n');
    let ids = vocab.encode(text).unwrap();
    assert_eq!(ids.len(), text.chars().count());
    assert_eq!(vocab.decode(&ids).unwrap(), text);
    assert_eq!(
        vocab.id('A'),
        Some(vocab.chars().iter().position(|&c| c == 'A').unwrap())
    );
}

#[test]
fn unicode_round_trip_and_unknown_characters() {
    let text = "Grüße, 世界! ÅÅ";
    let vocab = Vocabulary::from_text(text).unwrap();
    assert_eq!(vocab.decode(&vocab.encode(text).unwrap()).unwrap(), text);
    // Positions count characters, not bytes: 'ü' is 2 bytes, '界' 3.
    assert_eq!(
        vocab.encode("Grüße 世界?"),
        Err(DatasetError::UnknownChar {
            ch: '?',
            position: 8
        })
    );
    assert_eq!(
        vocab.decode(&[0, 99]),
        Err(DatasetError::UnknownId {
            id: 99,
            position: 1,
            vocab_size: vocab.len()
        })
    );
    assert_eq!(Vocabulary::from_text(""), Err(DatasetError::EmptyText));
}

#[test]
fn vocabulary_serialises_as_its_characters() {
    let vocab = Vocabulary::from_text("hello world").unwrap();
    let json = serde_json::to_string(&vocab).unwrap();
    assert_eq!(json, r#"[" ","d","e","h","l","o","r","w"]"#);
    let back: Vocabulary = serde_json::from_str(&json).unwrap();
    assert_eq!(back, vocab);
    assert!(serde_json::from_str::<Vocabulary>(r#"["b","a"]"#).is_err());
    assert!(serde_json::from_str::<Vocabulary>(r#"["a","a"]"#).is_err());
    assert!(serde_json::from_str::<Vocabulary>("[]").is_err());
}

#[test]
fn corpus_split_by_fraction() {
    let text = "abcdefghij".repeat(10);
    let c = CharCorpus::new(&text, 0.9).unwrap();
    assert_eq!((c.train.len(), c.valid.len()), (90, 10));
    assert_eq!(c.vocab.decode(&c.valid).unwrap(), "abcdefghij");
    for f in [-0.01, 1.01, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            CharCorpus::new(&text, f),
            Err(DatasetError::FractionOutOfRange { .. })
        ));
    }
    let s = CharCorpus::shakespeare(0.9).unwrap();
    assert_eq!(s.train.len() + s.valid.len(), 1_271_788);
    assert_eq!(s.train.len(), 1_144_609); // round(0.9 * 1271788)
}

#[test]
fn batchify_makes_contiguous_streams() {
    let ids: Vec<usize> = (0..103).collect();
    let data = batchify(&ids, 4).unwrap();
    assert_eq!((data.batch(), data.steps()), (4, 25));
    assert_eq!(data.ids().len(), 100);
    for b in 0..4 {
        assert_eq!(data.stream(b).unwrap(), ids[b * 25..(b + 1) * 25].to_vec());
    }
    assert_eq!(data.stream(4), None);
    // Time-major: token t of stream b at t * batch + b, like PyTorch's data.view(bsz, -1).t().
    assert_eq!(&data.ids()[..8], &[0, 25, 50, 75, 1, 26, 51, 76]);
    assert_eq!(batchify(&ids, 0), Err(DatasetError::ZeroBatch));
    assert!(matches!(
        batchify(&ids, 52),
        Err(DatasetError::TooShort { .. })
    ));
}

#[test]
fn chunk_targets_are_inputs_shifted_by_one() {
    let ids: Vec<usize> = (0..1000).map(|i| (i * 7 + i / 13) % 50).collect();
    let data = batchify(&ids, 6).unwrap(); // 166 steps
    let chunks: Vec<_> = data.chunks(35).unwrap().collect();
    assert_eq!(chunks.len(), 5); // 165 targets: 35 * 4 + 25
    assert_eq!(
        chunks.iter().map(|c| c.steps).collect::<Vec<_>>(),
        vec![35, 35, 35, 35, 25]
    );
    for b in 0..6 {
        let stream = data.stream(b).unwrap();
        let mut inputs = Vec::new();
        let mut targets = Vec::new();
        for c in &chunks {
            assert_eq!(c.batch, 6);
            assert_eq!(c.inputs.len(), c.steps * 6);
            for t in 0..c.steps {
                inputs.push(c.inputs[t * 6 + b]);
                targets.push(c.targets[t * 6 + b]);
                if t + 1 < c.steps {
                    assert_eq!(c.targets[t * 6 + b], c.inputs[(t + 1) * 6 + b]);
                }
            }
        }
        // Consecutive chunks continue each stream, so state can be carried over.
        assert_eq!(inputs, stream[..165]);
        assert_eq!(targets, stream[1..]);
    }
    for w in chunks.windows(2) {
        assert_eq!(w[1].start, w[0].start + w[0].steps);
        assert_eq!(&w[0].targets[(w[0].steps - 1) * 6..], &w[1].inputs[..6]);
    }
    assert!(data.chunks(0).is_err());
    assert_eq!(data.chunks(1000).unwrap().count(), 1);
}

#[test]
fn chunks_one_hot_as_seq_batches() {
    let corpus = CharCorpus::new("to be or not to be", 1.0).unwrap();
    let data = batchify(&corpus.train, 2).unwrap();
    let chunk = data.chunks(4).unwrap().next().unwrap();
    let batch = chunk.one_hot(corpus.vocab.len()).unwrap();
    batch.validate().unwrap();
    assert_eq!(
        (batch.features, batch.steps, batch.batch),
        (corpus.vocab.len(), 4, 2)
    );
    for t in 0..4 {
        for b in 0..2 {
            let x = batch.input(t, b).unwrap();
            assert_eq!(x.iter().sum::<f64>(), 1.0);
            assert_eq!(x[chunk.inputs[t * 2 + b]], 1.0);
        }
    }
    assert_eq!(
        batch.targets,
        Targets::StepClasses {
            classes: chunk.targets.clone(),
            num_classes: corpus.vocab.len()
        }
    );
    assert!(matches!(
        chunk.one_hot(2),
        Err(DatasetError::UnknownId { .. })
    ));
}
