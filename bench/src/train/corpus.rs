//! The text a language model learns from: a user's UTF-8 file (or the embedded Shakespeare),
//! its vocabulary, and its split into training and validation characters.

use std::path::{Path, PathBuf};

use rnnzoo::datasets::Vocabulary;

use super::config::DataConfig;

/// A text that cannot be used, named, with what was expected.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error(
        "{path}: not UTF-8 text: invalid bytes at byte {byte} (line {line}); convert it with `iconv -t UTF-8`"
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Offset of the first invalid byte.
        byte: usize,
        /// Its line (1 for the first).
        line: usize,
    },
    /// The file holds no character.
    #[error("{path}: the text is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// A text encoded over its own vocabulary and split in order: the first `1 - valid_fraction` of
/// its characters for training, the rest for validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    /// Every distinct character of the whole text, sorted (a character's id is its rank).
    pub vocab: Vocabulary,
    /// Training ids.
    pub train: Vec<usize>,
    /// Validation ids.
    pub valid: Vec<usize>,
}

/// Reads `path` as UTF-8 text.
///
/// # Errors
///
/// [`CorpusError::Io`], and [`CorpusError::NotUtf8`] with the offset and line of the first
/// invalid byte.
pub fn read_text(path: &Path) -> Result<String, CorpusError> {
    let bytes = std::fs::read(path).map_err(|source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let byte = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..byte].iter().filter(|&&b| b == b'\n').count();
        CorpusError::NotUtf8 {
            path: path.to_path_buf(),
            byte,
            line,
        }
    })
}

impl Corpus {
    /// The corpus `data` names.
    ///
    /// ```
    /// use rnnzoo_bench::train::{corpus::Corpus, DataConfig};
    /// let p = std::env::temp_dir().join("rnnzoo-doc-corpus.txt");
    /// std::fs::write(&p, "abcabcabca")?;
    /// let c = Corpus::load(&DataConfig { text: p, valid_fraction: 0.2, ..Default::default() })?;
    /// assert_eq!((c.vocab.len(), c.train.len(), c.valid.len()), (3, 8, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`read_text`]'s, [`CorpusError::Empty`].
    pub fn load(data: &DataConfig) -> Result<Self, CorpusError> {
        let owned;
        let text = if data.text.as_os_str().is_empty() {
            rnnzoo::datasets::shakespeare()
        } else {
            owned = read_text(&data.text)?;
            &owned
        };
        let empty = || CorpusError::Empty {
            path: data.text.clone(),
        };
        let vocab = Vocabulary::from_text(text).map_err(|_| empty())?;
        let ids = vocab.encode(text).map_err(|_| empty())?;
        let cut = ((ids.len() as f64) * (1.0 - data.valid_fraction)).round() as usize;
        Ok(Self {
            train: ids[..cut].to_vec(),
            valid: ids[cut..].to_vec(),
            vocab,
        })
    }
}
