"""Speech stages: load audio, compute spectral features, recognise with a CTC model."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from seqrec.features import (
    MAX_SECONDS,
    InputError,
    SpectralConfig,
    is_silent,
    load_audio,
    resample,
    spectral_features,
    spectral_features_batch,
)
from seqrec.features.audio.speech_check import QUIET_DB, QUIET_TO_DB, raise_quiet, why_not_speech
from seqrec.models import (
    DecodeOptions,
    InferenceModel,
    LexiconBeamDecoder,
    greedy_decode,
    lexicon_words,
    spans_to_words,
)
from seqrec.models.tokenizer import normalize_text
from seqrec.pipelines.core.stage import MissingFieldError, Pipeline, Stage
from seqrec.pipelines.speech.word_timing import align_words_to_speech


class LoadAudio(Stage):
    """``path`` (a file) or ``audio`` + ``sample_rate`` (an array) -> mono float32 ``audio`` at
    ``sample_rate``."""

    provides = ("audio", "sample_rate", "duration")

    def __init__(self, sample_rate: int, max_seconds: float = MAX_SECONDS):
        self.sample_rate = sample_rate
        self.max_seconds = max_seconds

    def process(self, sample: dict) -> dict:
        if sample.get("audio") is not None:
            audio = resample(
                np.asarray(sample["audio"], dtype=np.float32), sample["sample_rate"], self.sample_rate
            )
            if audio.size == 0:
                raise InputError(sample.get("path"), "no audio samples")
        elif sample.get("path") is not None:
            audio = load_audio(sample["path"], self.sample_rate, self.max_seconds)
        else:
            raise MissingFieldError("LoadAudio", "path")
        return {
            **sample,
            "audio": audio,
            "sample_rate": self.sample_rate,
            "duration": round(audio.size / self.sample_rate, 3),
        }


class SpeechCheck(Stage):
    """``audio`` -> ``note`` saying why it holds no speech (silence, a steady tone, noise: see
    ``why_not_speech``), which ``CTCRecognize`` then leaves untranscribed; audio that may hold
    speech but is quiet (peak under ``QUIET_DB``) is lifted to ``QUIET_TO_DB``, so that the
    features' floor does not swallow it."""

    requires = ("audio", "sample_rate")
    provides = ("audio", "note")

    def process(self, sample: dict) -> dict:
        note = why_not_speech(sample["audio"], sample["sample_rate"])
        if note:
            return {**sample, "note": note}
        return {**sample, "audio": raise_quiet(sample["audio"], QUIET_DB, QUIET_TO_DB)}


class SpectralFeatures(Stage):
    """``audio`` -> ``features`` [T, D] float32, as the model's bundle says."""

    requires = ("audio", "sample_rate")
    provides = ("features",)

    def __init__(self, config: SpectralConfig):
        self.config = config

    def process(self, sample: dict) -> dict:
        self._check_rate(sample)
        return {**sample, "features": spectral_features(sample["audio"], self.config)}

    def process_batch(self, samples: list[dict]) -> list[dict]:
        """The same features, clips of equal length computed together (``spectral_features_batch``)."""
        for sample in samples:
            self._check_rate(sample)
        features = spectral_features_batch([sample["audio"] for sample in samples], self.config)
        return [{**sample, "features": f} for sample, f in zip(samples, features, strict=True)]

    def _check_rate(self, sample: dict) -> None:
        if sample["sample_rate"] != self.config.sample_rate:
            raise ValueError(
                f"SpectralFeatures expects {self.config.sample_rate} Hz audio, got {sample['sample_rate']}"
            )


class CTCRecognize(Stage):
    """``features`` -> ``text``, ``score`` and ``words`` (each with start, end, score) by CTC decoding.

    Greedy decoding by default; lexicon-constrained beam search when the decode options say so.
    A small-vocabulary model rejects rather than guesses: words outside its vocabulary (its filler
    for other speech), and words scoring under the bundle's rejection threshold, are dropped, and
    ``score`` (the mean score of the words kept, 0 when none are) says how sure the transcript is.
    A word's score is its characters' mean probability or, in a calibrated bundle
    (``DecodeOptions.word_probability``), the probability that the word is right.
    ``decoded_words`` keeps every word decoded, in order, each with ``kept``: a dropped word was
    still heard, and ``AlignWordTimes`` gives it its stretch of speech rather than to a neighbour.
    Items are sorted by length and padded together, so a batch costs little more than its longest item.

    ``words`` (a run-time word list, like a grammar) keeps only those of the model's words: the
    search still spells every word it knows (and its filler), so "stop" is heard as "stop" and
    dropped rather than forced into "yes". A word outside the model's vocabulary is a
    ``ValueError`` naming it.
    """

    requires = ("features",)
    provides = ("text", "score", "words", "decoded_words")

    def __init__(
        self,
        bundle: InferenceModel,
        head: str = "ctc",
        batch_size: int = 32,
        decode: DecodeOptions | None = None,
        words: Sequence[str] | None = None,
    ):
        self.bundle = bundle
        self.head = head
        self.batch_size = batch_size
        self.decode = decode or DecodeOptions(**bundle.config.get("decode", {}))
        self.vocabulary = set(bundle.config.get("vocabulary") or ())
        if words is not None:
            self.vocabulary = set(listed_words(words, bundle.config.get("vocabulary") or []))
        features = SpectralConfig(**bundle.config["features"])
        self.step_seconds = features.frame_seconds * bundle.stack
        self._beam = None
        if self.decode.method == "beam":
            lm = bundle.config.get("language_model", {}).get("bigram")
            try:
                filler = bundle.config.get("filler", "")
                words = lexicon_words(bundle.config["vocabulary"], filler)
                self._beam = LexiconBeamDecoder(bundle.tokenizer, words, self.decode, lm, filler)
            except ImportError as error:
                if decode is not None:  # asked for by the caller: say so and stop
                    raise
                # The bundle's own default: greedy still works, only less well, so go on and say why.
                warnings.warn(f"{error}; decoding greedily instead", stacklevel=2)

    def process_batch(self, samples: list[dict]) -> list[dict]:
        results: list[dict | None] = [None] * len(samples)
        # Silence has nothing to recognise, and its normalised features are nothing the model has seen;
        # nor has audio that ``SpeechCheck`` found holds no speech (its ``note`` says why).
        silent = {
            i
            for i, sample in enumerate(samples)
            if sample.get("note") or ("audio" in sample and is_silent(sample["audio"]))
        }
        for i in silent:
            results[i] = {**samples[i], "text": "", "score": 0.0, "words": [], "decoded_words": []}
        order = sorted(
            (i for i in range(len(samples)) if i not in silent), key=lambda i: len(samples[i]["features"])
        )
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            log_probs, lengths = self._forward([samples[i]["features"] for i in chunk])
            for i, item_log_probs, length in zip(chunk, log_probs, lengths, strict=True):
                decoded = [
                    {**w, "kept": self._keeps(w)}
                    for w in self._decode_words(item_log_probs[:length], samples[i].get("duration"))
                ]
                words = [_without_kept(w) for w in decoded if w["kept"]]
                results[i] = {**samples[i], **transcript_of(words), "decoded_words": decoded}
        return results

    def _decode_words(self, log_probs: np.ndarray, duration: float | None) -> list[dict]:
        if self._beam:
            words = self._beam.decode_words(log_probs, self.step_seconds, duration)
        else:
            words = spans_to_words(
                greedy_decode(log_probs), self.bundle.tokenizer, self.step_seconds, duration
            )
        if self.decode.calibrated:
            words = [{**w, "score": self.decode.word_probability(w["score"])} for w in words]
        return words

    def _keeps(self, word: dict) -> bool:
        return word["score"] >= self.decode.rejection_threshold and (
            not self.vocabulary or word["word"] in self.vocabulary
        )

    def _forward(self, arrays: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
        outputs, out_lengths = self.bundle.network(arrays)
        return outputs[self.head], out_lengths.tolist()


def listed_words(words: Sequence[str], vocabulary: Sequence[str]) -> list[str]:
    """A run-time word list in the form transcripts take (lower case), each word one of the
    model's; a ``ValueError`` names the first that is not, or says the model has no word list."""
    listed = list(dict.fromkeys(normalize_text(w) for w in words if w.strip()))
    if not listed:
        raise ValueError("the word list is empty")
    if not vocabulary:
        raise ValueError("this model spells any characters (no vocabulary): a word list needs one that has")
    for word in listed:
        if word not in vocabulary:
            raise ValueError(f"the word {word!r} is not in this model's vocabulary ({', '.join(vocabulary)})")
    return listed


def transcript_of(words: list[dict]) -> dict:
    """``text``, ``score`` and ``words`` of a transcript made of ``words`` (those kept)."""
    return {"text": " ".join(w["word"] for w in words), "score": transcript_score(words), "words": words}


def transcript_score(words: list[dict]) -> float:
    """How sure a transcript is: the mean score of its words, 0 for no words."""
    return round(float(np.mean([w["score"] for w in words])), 4) if words else 0.0


def _without_kept(word: dict) -> dict:
    return {key: value for key, value in word.items() if key != "kept"}


class AlignWordTimes(Stage):
    """``words`` timed by where the speech is in ``audio`` (see ``word_timing``), not by CTC spikes alone.

    The stretches of speech go to every word decoded (``decoded_words``, when the sample has them),
    the rejected ones too: otherwise the stretch of a dropped word would pass to the next word kept.
    """

    requires = ("audio", "sample_rate", "words")
    provides = ("words",)

    def process(self, sample: dict) -> dict:
        decoded = sample.get("decoded_words")
        if decoded is None:
            return {
                **sample,
                "words": align_words_to_speech(sample["words"], sample["audio"], sample["sample_rate"]),
            }
        timed = align_words_to_speech(decoded, sample["audio"], sample["sample_rate"])
        return {**sample, "words": [_without_kept(w) for w in timed if w["kept"]]}


def speech_pipeline(
    bundle: InferenceModel,
    batch_size: int = 32,
    decode: DecodeOptions | None = None,
    words: Sequence[str] | None = None,
) -> Pipeline:
    """The full path for a speech bundle: load -> check -> features -> recognize -> align (decode: the
    bundle's default; words: a run-time word list, see ``CTCRecognize``)."""
    features = SpectralConfig(**bundle.config["features"])
    return Pipeline(
        [
            ("load", LoadAudio(features.sample_rate)),
            ("check", SpeechCheck()),
            ("features", SpectralFeatures(features)),
            ("recognize", CTCRecognize(bundle, batch_size=batch_size, decode=decode, words=words)),
            ("align", AlignWordTimes()),
        ]
    )
