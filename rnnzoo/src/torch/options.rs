//! Where the loader looks in a `state_dict`, and what it builds.

use rnnzoo_layers::Readout;
use rnnzoo_layers::head::Activation;
use rnnzoo_vanilla::Nonlinearity;

/// Where the loader finds the module and the head in a `state_dict`, and what it does with the
/// rest. [`TorchOptions::default`] reads a module saved alone: bare names, no head, nothing else
/// in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchOptions {
    /// The prefix of the recurrent module's names (`"lstm."` for `self.lstm`; `""` for a
    /// module saved alone).
    pub rnn_prefix: String,
    /// The prefix of a `Linear` head's `weight` and `bias` (`Some("fc.")`), for
    /// [`load_model`](super::load_model); `None` for a stack alone.
    pub head_prefix: Option<String>,
    /// What the head reads ([`load_model`](super::load_model)). The default is what PyTorch
    /// classifiers mostly read, [`Readout::FinalStates`]: `cat(h_n[-2], h_n[-1])`, the final
    /// states of the last layer's directions (`h_n[-1]` for a unidirectional module, which is
    /// also each sample's last valid output).
    pub readout: Readout,
    /// The head's output function (PyTorch applies any after `fc`, outside the `state_dict`).
    pub activation: Activation,
    /// Skip tensors that are neither the module's nor the head's (an embedding, a second
    /// module) instead of refusing the file. Skipped names are listed in
    /// [`TorchModule::ignored`](super::TorchModule::ignored).
    pub ignore_extra: bool,
    /// An `nn.RNN`'s nonlinearity, which its `state_dict` does not record (see the module
    /// docs). `None`: the file's metadata, else tanh (assumed, and reported as such).
    pub nonlinearity: Option<Nonlinearity>,
}

impl Default for TorchOptions {
    fn default() -> Self {
        Self {
            rnn_prefix: String::new(),
            head_prefix: None,
            readout: Readout::FinalStates,
            activation: Activation::Identity,
            ignore_extra: false,
            nonlinearity: None,
        }
    }
}

impl TorchOptions {
    /// The defaults: a module saved alone.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TorchOptions::rnn_prefix`].
    pub fn rnn_prefix(mut self, prefix: &str) -> Self {
        self.rnn_prefix = prefix.to_string();
        self
    }

    /// Sets [`TorchOptions::head_prefix`].
    pub fn head(mut self, prefix: &str) -> Self {
        self.head_prefix = Some(prefix.to_string());
        self
    }

    /// Sets [`TorchOptions::readout`].
    pub fn readout(mut self, readout: Readout) -> Self {
        self.readout = readout;
        self
    }

    /// Sets [`TorchOptions::activation`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Sets [`TorchOptions::ignore_extra`].
    pub fn ignore_extra(mut self, ignore: bool) -> Self {
        self.ignore_extra = ignore;
        self
    }

    /// Sets [`TorchOptions::nonlinearity`].
    pub fn nonlinearity(mut self, nonlinearity: Nonlinearity) -> Self {
        self.nonlinearity = Some(nonlinearity);
        self
    }
}
