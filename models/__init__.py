"""torch modules and what makes them usable: encoder, heads, tokenizer, CTC decoding, bundles."""

from .bundle import (
    DEFAULT_SPEECH_MODEL,
    BundleError,
    ModelBundle,
    bundled_model_names,
    copy_bundle,
    load_bundle,
    read_bundle_config,
    resolve_bundle,
    save_bundle,
)
from .ctc_decoding import TokenSpan, greedy_decode, spans_to_words
from .encoder import BiLSTMEncoder, EncoderDims
from .heads import ClassifierHead, CTCHead
from .lexicon_decoding import DecodeOptions, LexiconBeamDecoder, lexicon_words, word_bigram
from .sequence_model import HeadDims, ModelDims, SequenceModel
from .tokenizer import CharTokenizer, normalize_text

__all__ = [
    "DEFAULT_SPEECH_MODEL",
    "BiLSTMEncoder",
    "BundleError",
    "CTCHead",
    "CharTokenizer",
    "ClassifierHead",
    "DecodeOptions",
    "EncoderDims",
    "HeadDims",
    "LexiconBeamDecoder",
    "ModelBundle",
    "ModelDims",
    "SequenceModel",
    "TokenSpan",
    "bundled_model_names",
    "copy_bundle",
    "greedy_decode",
    "lexicon_words",
    "load_bundle",
    "normalize_text",
    "read_bundle_config",
    "resolve_bundle",
    "save_bundle",
    "spans_to_words",
    "word_bigram",
]
