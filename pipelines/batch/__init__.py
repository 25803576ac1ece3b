"""Jobs over datasets: ``job`` (resumable, a local process pool or Ray through ``ray_engine``),
``inputs`` (manifests, folders, LibriSpeech and Kaggle layouts), ``tasks`` (transcribe, features,
gestures), and ``evaluate`` (a model scored on a manifest with references)."""
