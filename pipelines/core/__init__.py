"""What every pipeline shares: ``stage`` (Stage, Pipeline), ``errors``, ``config`` (YAML to
frozen dataclasses), ``manifest`` (JSON-Lines manifests), ``result_log`` and ``feature_shards``
(append-only and atomic result files), ``metrics``, ``output_formats``, ``device``,
``native_logs``, ``confusion_image`` and ``lazy_exports``."""
