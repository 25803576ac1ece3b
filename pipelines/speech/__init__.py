"""Speech: one modality, from audio files and microphones.

- ``stages``: the stages audio goes through (``speech_pipeline``: load, features, recognise)
- ``transcriber``: ``Transcriber`` and ``transcribe``, load once and transcribe many
- ``long_audio``: long files cut at pauses, and live audio (a microphone, a paced file)
- ``word_timing``: word times from where the speech is
- ``scoring``: word start error, beyond WER
- ``data``, ``corpora``, ``synthetic``: training data (feature corpora, real corpora, TTS)
- ``training``: the speech recipe and its hooks into the one trainer

``from seqrec.pipelines.speech import speech_pipeline`` (and ``Transcriber``) load on first use.
"""

from typing import TYPE_CHECKING

from seqrec.pipelines.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from seqrec.pipelines.speech.stages import speech_pipeline as speech_pipeline
    from seqrec.pipelines.speech.transcriber import Transcriber as Transcriber
    from seqrec.pipelines.speech.transcriber import transcribe as transcribe

_LAZY = {
    "speech_pipeline": "seqrec.pipelines.speech.stages",
    "Transcriber": "seqrec.pipelines.speech.transcriber",
    "transcribe": "seqrec.pipelines.speech.transcriber",
}


__getattr__ = lazy_exports(globals(), _LAZY)


__all__ = ["Transcriber", "speech_pipeline", "transcribe"]
