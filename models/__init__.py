"""The drum model: encoding, dataset, the torch model, training, sampling, evaluation (issue 3)."""
