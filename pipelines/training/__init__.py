"""Training, the same for every modality: ``trainer`` (the one loop), ``recipes`` (what every
recipe has), ``batching`` (length-bucketed epoch plans), ``checkpoints`` and ``distributed``.
Each modality plugs its data, loss, dev score and bundle in through small hooks."""
