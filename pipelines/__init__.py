"""Stages, pipelines, training, evaluation and the CLI: where features and models meet."""

from .stage import PASSTHROUGH, MissingFieldError, Pipeline, Stage
from .transcribe import Transcriber, transcribe

__all__ = ["PASSTHROUGH", "MissingFieldError", "Pipeline", "Stage", "Transcriber", "transcribe"]
