"""Pipelines: where features and models meet, one subpackage per idea.

- ``core``: stages and pipelines, errors, manifests, result files, metrics, output formats
- ``speech`` and ``hands``: one modality each (stages, recogniser, long and live input, corpora)
- ``training``: one trainer for both, recipes, batching, checkpoints, distributed
- ``batch``: resumable jobs over datasets (a local pool or Ray), evaluation
- ``cli``: the ``seqrec`` command

The public names below load on first use (PEP 562): ``import seqrec.pipelines`` imports neither
torch nor MediaPipe, so the command line starts at once.
"""

from typing import TYPE_CHECKING

from seqrec.pipelines.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from seqrec.pipelines.core.stage import PASSTHROUGH as PASSTHROUGH
    from seqrec.pipelines.core.stage import MissingFieldError as MissingFieldError
    from seqrec.pipelines.core.stage import Pipeline as Pipeline
    from seqrec.pipelines.core.stage import Stage as Stage
    from seqrec.pipelines.hands.recognizer import GestureRecognizer as GestureRecognizer
    from seqrec.pipelines.speech.transcriber import Transcriber as Transcriber
    from seqrec.pipelines.speech.transcriber import transcribe as transcribe

_LAZY = {
    "PASSTHROUGH": "seqrec.pipelines.core.stage",
    "MissingFieldError": "seqrec.pipelines.core.stage",
    "Pipeline": "seqrec.pipelines.core.stage",
    "Stage": "seqrec.pipelines.core.stage",
    "GestureRecognizer": "seqrec.pipelines.hands.recognizer",
    "Transcriber": "seqrec.pipelines.speech.transcriber",
    "transcribe": "seqrec.pipelines.speech.transcriber",
}


__getattr__ = lazy_exports(globals(), _LAZY)


__all__ = [
    "PASSTHROUGH",
    "GestureRecognizer",
    "MissingFieldError",
    "Pipeline",
    "Stage",
    "Transcriber",
    "transcribe",
]
