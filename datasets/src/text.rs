//! Character-level language modelling over any UTF-8 text, with the default corpus embedded.
//!
//! The pipeline is char-rnn's (Karpathy 2015) and PyTorch's `word_language_model`: build a
//! [`Vocabulary`] of the text's characters, encode the text to ids, split it in order into
//! training and validation ids, cut each stream into `batch` contiguous streams with
//! [`batchify`], and walk them in chunks of `k` steps with [`Batchified::chunks`]. Chunk `i + 1`
//! continues exactly where chunk `i` stopped in every stream, so a model may carry its hidden
//! state from one chunk to the next (truncated backpropagation through time).

use serde::{Deserialize, Serialize};

use crate::batch::{SeqBatch, Targets, check_ids, one_hot};
use crate::error::{DatasetError, Result, check_at_least, check_batch};
use crate::split::split_at_fraction;

/// The default corpus: ten Shakespeare plays (public-domain Project Gutenberg texts, 1.27 MB,
/// ASCII), embedded in the binary so it works from any directory with no download.
///
/// ```
/// let text = rnnzoo_datasets::shakespeare();
/// assert!(text.starts_with("HAMLET"));
/// assert!(text.len() > 1_000_000);
/// ```
pub fn shakespeare() -> &'static str {
    include_str!("../data/shakespeare.txt")
}

/// The sorted set of distinct characters of a text; a character's id is its rank.
///
/// Serialises as the list of characters (so a trained model can ship its vocabulary);
/// deserialising checks the list is sorted without duplicates.
///
/// ```
/// use rnnzoo_datasets::Vocabulary;
/// let v = Vocabulary::from_text("hello")?;
/// assert_eq!(v.chars(), &['e', 'h', 'l', 'o']);
/// let ids = v.encode("hole")?;
/// assert_eq!(ids, vec![1, 3, 2, 0]);
/// assert_eq!(v.decode(&ids)?, "hole");
/// assert!(v.encode("help").is_err());
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<char>", into = "Vec<char>")]
pub struct Vocabulary {
    chars: Vec<char>,
}

impl Vocabulary {
    /// The vocabulary of `text`.
    ///
    /// # Errors
    ///
    /// [`DatasetError::EmptyText`] for an empty text.
    ///
    /// ```
    /// use rnnzoo_datasets::Vocabulary;
    /// assert_eq!(Vocabulary::from_text("abca")?.len(), 3);
    /// assert!(Vocabulary::from_text("").is_err());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn from_text(text: &str) -> Result<Self> {
        Self::from_chars(text.chars())
    }

    /// The vocabulary of a set of characters (sorted and deduplicated here).
    ///
    /// # Errors
    ///
    /// [`DatasetError::EmptyText`] when there are no characters.
    ///
    /// ```
    /// use rnnzoo_datasets::Vocabulary;
    /// let v = Vocabulary::from_chars(['z', 'a', 'z'])?;
    /// assert_eq!(v.chars(), &['a', 'z']);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn from_chars<I: IntoIterator<Item = char>>(chars: I) -> Result<Self> {
        let mut chars: Vec<char> = chars.into_iter().collect();
        chars.sort_unstable();
        chars.dedup();
        if chars.is_empty() {
            return Err(DatasetError::EmptyText);
        }
        Ok(Vocabulary { chars })
    }

    /// Number of distinct characters.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::Vocabulary::from_text("aab")?.len(), 2);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Always `false`: a vocabulary has at least one character.
    ///
    /// ```
    /// assert!(!rnnzoo_datasets::Vocabulary::from_text("a")?.is_empty());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, sorted; index = id.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::Vocabulary::from_text("ba")?.chars(), &['a', 'b']);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The id of `c`, or `None` if it is not in the vocabulary.
    ///
    /// ```
    /// let v = rnnzoo_datasets::Vocabulary::from_text("ba")?;
    /// assert_eq!((v.id('b'), v.id('c')), (Some(1), None));
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn id(&self, c: char) -> Option<usize> {
        // Sorted, so binary search: a few comparisons for any realistic alphabet.
        self.chars.binary_search(&c).ok()
    }

    /// The character of `id`, or `None` if `id >= len()`.
    ///
    /// ```
    /// let v = rnnzoo_datasets::Vocabulary::from_text("ba")?;
    /// assert_eq!((v.char(0), v.char(2)), (Some('a'), None));
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn char(&self, id: usize) -> Option<char> {
        self.chars.get(id).copied()
    }

    /// Encodes `text` to ids.
    ///
    /// # Errors
    ///
    /// [`DatasetError::UnknownChar`] with the first character not in the vocabulary and its
    /// position in characters.
    ///
    /// ```
    /// use rnnzoo_datasets::{DatasetError, Vocabulary};
    /// let v = Vocabulary::from_text("ab")?;
    /// assert_eq!(v.encode("ba")?, vec![1, 0]);
    /// assert_eq!(v.encode("abc"), Err(DatasetError::UnknownChar { ch: 'c', position: 2 }));
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn encode(&self, text: &str) -> Result<Vec<usize>> {
        text.chars()
            .enumerate()
            .map(|(position, ch)| {
                self.id(ch)
                    .ok_or(DatasetError::UnknownChar { ch, position })
            })
            .collect()
    }

    /// Decodes ids to text.
    ///
    /// # Errors
    ///
    /// [`DatasetError::UnknownId`] for the first id `>= len()`.
    ///
    /// ```
    /// let v = rnnzoo_datasets::Vocabulary::from_text("ab")?;
    /// assert_eq!(v.decode(&[1, 1, 0])?, "bba");
    /// assert!(v.decode(&[2]).is_err());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn decode(&self, ids: &[usize]) -> Result<String> {
        ids.iter()
            .enumerate()
            .map(|(position, &id)| {
                self.char(id).ok_or(DatasetError::UnknownId {
                    id,
                    position,
                    vocab_size: self.len(),
                })
            })
            .collect()
    }
}

impl TryFrom<Vec<char>> for Vocabulary {
    type Error = DatasetError;

    /// Accepts only a non-empty, strictly increasing list (what [`Vocabulary::chars`] returns),
    /// so ids keep their meaning across a save and load.
    fn try_from(chars: Vec<char>) -> Result<Self> {
        if chars.is_empty() {
            return Err(DatasetError::EmptyText);
        }
        if let Some(w) = chars.windows(2).find(|w| w[0] >= w[1]) {
            return Err(DatasetError::InvalidParameter {
                name: "vocabulary",
                value: format!("{:?} followed by {:?}", w[0], w[1]),
                expected: "characters in strictly increasing order".into(),
            });
        }
        Ok(Vocabulary { chars })
    }
}

impl From<Vocabulary> for Vec<char> {
    fn from(v: Vocabulary) -> Self {
        v.chars
    }
}

/// A text encoded with its own vocabulary and split in order into training and validation ids.
///
/// The vocabulary is built from the whole text, so validation never meets an unknown
/// character.
///
/// ```
/// use rnnzoo_datasets::CharCorpus;
/// let c = CharCorpus::new("abcabcabca", 0.8)?;
/// assert_eq!(c.vocab.len(), 3);
/// assert_eq!((c.train.len(), c.valid.len()), (8, 2));
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharCorpus {
    /// The whole text's vocabulary.
    pub vocab: Vocabulary,
    /// Ids of the first `train_fraction` of the text.
    pub train: Vec<usize>,
    /// Ids of the rest.
    pub valid: Vec<usize>,
}

impl CharCorpus {
    /// Encodes `text` and splits it at `train_fraction` of its characters.
    ///
    /// # Errors
    ///
    /// [`DatasetError::EmptyText`] and [`DatasetError::FractionOutOfRange`].
    ///
    /// ```
    /// assert!(rnnzoo_datasets::CharCorpus::new("abc", 2.0).is_err());
    /// ```
    pub fn new(text: &str, train_fraction: f64) -> Result<Self> {
        let vocab = Vocabulary::from_text(text)?;
        let ids = vocab.encode(text)?;
        let (train, valid) = split_at_fraction(&ids, train_fraction)?;
        Ok(CharCorpus {
            train: train.to_vec(),
            valid: valid.to_vec(),
            vocab,
        })
    }

    /// The embedded [`shakespeare`] corpus, split at `train_fraction`.
    ///
    /// ```
    /// let c = rnnzoo_datasets::CharCorpus::shakespeare(0.9)?;
    /// assert_eq!(c.vocab.len(), 80);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn shakespeare(train_fraction: f64) -> Result<Self> {
        Self::new(shakespeare(), train_fraction)
    }
}

/// A token stream cut into `batch` contiguous streams, stored time-major.
///
/// As in PyTorch's `batchify`, the stream is trimmed to a multiple of `batch` and stream `b` is
/// the `b`-th contiguous slice of `steps = len / batch` tokens; its token `t` is
/// `ids()[t * batch + b]`.
///
/// ```
/// use rnnzoo_datasets::batchify;
/// let ids: Vec<usize> = (0..10).collect();
/// let data = batchify(&ids, 3)?; // 10 / 3 = 3 steps, token 9 dropped
/// assert_eq!((data.steps(), data.batch()), (3, 3));
/// assert_eq!(data.stream(1), Some(vec![3, 4, 5]));
/// assert_eq!(data.ids(), &[0, 3, 6, 1, 4, 7, 2, 5, 8]);
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batchified {
    ids: Vec<usize>,
    batch: usize,
    steps: usize,
}

/// Cuts `ids` into `batch` contiguous streams (see [`Batchified`]).
///
/// # Errors
///
/// [`DatasetError::ZeroBatch`], and [`DatasetError::TooShort`] when a stream would have fewer
/// than 2 tokens (no input with a next-token target).
///
/// ```
/// use rnnzoo_datasets::batchify;
/// assert!(batchify(&[1, 2, 3], 2).is_err()); // 1 token per stream
/// assert_eq!(batchify(&[1, 2, 3, 4], 2)?.steps(), 2);
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
pub fn batchify(ids: &[usize], batch: usize) -> Result<Batchified> {
    check_batch(batch)?;
    let steps = ids.len() / batch;
    check_at_least("tokens per stream (ids.len() / batch)", 2, steps)?;
    let mut out = Vec::with_capacity(steps * batch);
    for t in 0..steps {
        out.extend((0..batch).map(|b| ids[b * steps + t]));
    }
    Ok(Batchified {
        ids: out,
        batch,
        steps,
    })
}

impl Batchified {
    /// Number of streams.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::batchify(&[0; 8], 4)?.batch(), 4);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Tokens per stream.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::batchify(&[0; 9], 4)?.steps(), 2);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// All ids, time-major: token `t` of stream `b` at `t * batch + b`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::batchify(&[1, 2, 3, 4], 2)?.ids(), &[1, 3, 2, 4]);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn ids(&self) -> &[usize] {
        &self.ids
    }

    /// Stream `b` in order, or `None` if `b >= batch`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::batchify(&[1, 2, 3, 4], 2)?.stream(1), Some(vec![3, 4]));
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn stream(&self, b: usize) -> Option<Vec<usize>> {
        (b < self.batch).then(|| {
            (0..self.steps)
                .map(|t| self.ids[t * self.batch + b])
                .collect()
        })
    }

    /// Chunks of at most `k` steps for truncated BPTT: chunk `i` has inputs at steps
    /// `i*k .. i*k + len` and targets one step later, with `len = min(k, steps - 1 - i*k)`.
    /// There are `ceil((steps - 1) / k)` chunks; the last one may be shorter.
    ///
    /// # Errors
    ///
    /// [`DatasetError::TooShort`] when `k == 0`.
    ///
    /// ```
    /// let data = rnnzoo_datasets::batchify(&(0..22).collect::<Vec<_>>(), 2)?; // 11 steps
    /// let lens: Vec<usize> = data.chunks(4)?.map(|c| c.steps).collect();
    /// assert_eq!(lens, vec![4, 4, 2]);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn chunks(&self, k: usize) -> Result<Chunks<'_>> {
        check_at_least("chunk length (BPTT steps)", 1, k)?;
        Ok(Chunks {
            data: self,
            k,
            start: 0,
        })
    }
}

/// Iterator over the truncated-BPTT chunks of a [`Batchified`] stream.
///
/// ```
/// let data = rnnzoo_datasets::batchify(&[0; 20], 2)?;
/// assert_eq!(data.chunks(3)?.len(), 3); // 10 steps: 9 targets in chunks of 3
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    data: &'a Batchified,
    k: usize,
    start: usize,
}

impl Iterator for Chunks<'_> {
    type Item = TokenChunk;

    fn next(&mut self) -> Option<TokenChunk> {
        let d = self.data;
        // The last step has no next token, so inputs stop at steps - 1.
        let usable = d.steps - 1;
        if self.start >= usable {
            return None;
        }
        let steps = self.k.min(usable - self.start);
        let from = self.start * d.batch;
        let to = (self.start + steps) * d.batch;
        let chunk = TokenChunk {
            inputs: d.ids[from..to].to_vec(),
            targets: d.ids[from + d.batch..to + d.batch].to_vec(),
            steps,
            batch: d.batch,
            start: self.start,
        };
        self.start += steps;
        Some(chunk)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.data.steps - 1)
            .saturating_sub(self.start)
            .div_ceil(self.k);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Chunks<'_> {}

/// One truncated-BPTT chunk: token ids, time-major, with next-token targets.
///
/// `targets[t * batch + b]` is the token following `inputs[t * batch + b]` in stream `b`.
///
/// ```
/// let data = rnnzoo_datasets::batchify(&[0, 1, 2, 3, 10, 11, 12, 13], 2)?;
/// let c = data.chunks(2)?.next().unwrap();
/// assert_eq!(c.inputs, vec![0, 10, 1, 11]);
/// assert_eq!(c.targets, vec![1, 11, 2, 12]);
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenChunk {
    /// Input ids, `steps * batch`, time-major.
    pub inputs: Vec<usize>,
    /// Next-token ids, `steps * batch`, time-major.
    pub targets: Vec<usize>,
    /// Steps in this chunk.
    pub steps: usize,
    /// Streams.
    pub batch: usize,
    /// The chunk's first step within each stream.
    pub start: usize,
}

impl TokenChunk {
    /// The chunk as a [`SeqBatch`]: one-hot inputs over `vocab_size` features and
    /// [`Targets::StepClasses`] targets.
    ///
    /// # Errors
    ///
    /// [`DatasetError::UnknownId`] when an id is `>= vocab_size`.
    ///
    /// ```
    /// let data = rnnzoo_datasets::batchify(&[0, 1, 2, 0, 1, 2], 1)?;
    /// let b = data.chunks(2)?.next().unwrap().one_hot(3)?;
    /// assert_eq!((b.features, b.steps, b.batch), (3, 2, 1));
    /// assert_eq!(b.inputs, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn one_hot(&self, vocab_size: usize) -> Result<SeqBatch> {
        check_ids(&self.inputs, vocab_size)?;
        check_ids(&self.targets, vocab_size)?;
        Ok(SeqBatch {
            inputs: one_hot(&self.inputs, vocab_size),
            features: vocab_size,
            steps: self.steps,
            batch: self.batch,
            targets: Targets::StepClasses {
                classes: self.targets.clone(),
                num_classes: vocab_size,
            },
            lengths: None,
        })
    }
}
