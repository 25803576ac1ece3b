"""The networks and what makes them usable: torch modules (encoder, heads), their ONNX graphs and
the runtimes that run either, tokenizer, CTC decoding, bundles.

The names below load on first use, so reading a bundle's config does not import torch.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seqrec.models.bundle import ModelBundle as ModelBundle
    from seqrec.models.bundle import copy_bundle as copy_bundle
    from seqrec.models.bundle import load_bundle as load_bundle
    from seqrec.models.bundle import save_bundle as save_bundle
    from seqrec.models.bundle_files import DEFAULT_SPEECH_MODEL as DEFAULT_SPEECH_MODEL
    from seqrec.models.bundle_files import FORMAT_VERSION as FORMAT_VERSION
    from seqrec.models.bundle_files import BundleError as BundleError
    from seqrec.models.bundle_files import bundled_model_names as bundled_model_names
    from seqrec.models.bundle_files import read_bundle_config as read_bundle_config
    from seqrec.models.bundle_files import resolve_bundle as resolve_bundle
    from seqrec.models.ctc_decoding import TokenSpan as TokenSpan
    from seqrec.models.ctc_decoding import greedy_decode as greedy_decode
    from seqrec.models.ctc_decoding import spans_to_words as spans_to_words
    from seqrec.models.decode_options import DecodeOptions as DecodeOptions
    from seqrec.models.encoder import BiLSTMEncoder as BiLSTMEncoder
    from seqrec.models.encoder import EncoderDims as EncoderDims
    from seqrec.models.heads import ClassifierHead as ClassifierHead
    from seqrec.models.heads import CTCHead as CTCHead
    from seqrec.models.inference import RUNTIMES as RUNTIMES
    from seqrec.models.inference import InferenceModel as InferenceModel
    from seqrec.models.inference import load_model as load_model
    from seqrec.models.lexicon_decoding import LexiconBeamDecoder as LexiconBeamDecoder
    from seqrec.models.lexicon_decoding import lexicon_words as lexicon_words
    from seqrec.models.lexicon_decoding import word_bigram as word_bigram
    from seqrec.models.sequence_model import HeadDims as HeadDims
    from seqrec.models.sequence_model import ModelDims as ModelDims
    from seqrec.models.sequence_model import SequenceModel as SequenceModel
    from seqrec.models.tokenizer import CharTokenizer as CharTokenizer
    from seqrec.models.tokenizer import normalize_text as normalize_text

# Name -> module, imported when the name is first asked for (PEP 562): importing the package
# loads nothing heavy, so a command that needs none of it starts at once.
_LAZY = {
    "BundleError": "seqrec.models.bundle_files",
    "DEFAULT_SPEECH_MODEL": "seqrec.models.bundle_files",
    "FORMAT_VERSION": "seqrec.models.bundle_files",
    "ModelBundle": "seqrec.models.bundle",
    "bundled_model_names": "seqrec.models.bundle_files",
    "copy_bundle": "seqrec.models.bundle",
    "load_bundle": "seqrec.models.bundle",
    "read_bundle_config": "seqrec.models.bundle_files",
    "resolve_bundle": "seqrec.models.bundle_files",
    "save_bundle": "seqrec.models.bundle",
    "TokenSpan": "seqrec.models.ctc_decoding",
    "greedy_decode": "seqrec.models.ctc_decoding",
    "spans_to_words": "seqrec.models.ctc_decoding",
    "BiLSTMEncoder": "seqrec.models.encoder",
    "EncoderDims": "seqrec.models.encoder",
    "CTCHead": "seqrec.models.heads",
    "ClassifierHead": "seqrec.models.heads",
    "RUNTIMES": "seqrec.models.inference",
    "InferenceModel": "seqrec.models.inference",
    "load_model": "seqrec.models.inference",
    "DecodeOptions": "seqrec.models.decode_options",
    "LexiconBeamDecoder": "seqrec.models.lexicon_decoding",
    "lexicon_words": "seqrec.models.lexicon_decoding",
    "word_bigram": "seqrec.models.lexicon_decoding",
    "HeadDims": "seqrec.models.sequence_model",
    "ModelDims": "seqrec.models.sequence_model",
    "SequenceModel": "seqrec.models.sequence_model",
    "CharTokenizer": "seqrec.models.tokenizer",
    "normalize_text": "seqrec.models.tokenizer",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_SPEECH_MODEL",
    "FORMAT_VERSION",
    "RUNTIMES",
    "BiLSTMEncoder",
    "BundleError",
    "CTCHead",
    "CharTokenizer",
    "ClassifierHead",
    "DecodeOptions",
    "EncoderDims",
    "HeadDims",
    "InferenceModel",
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
    "load_model",
    "normalize_text",
    "read_bundle_config",
    "resolve_bundle",
    "save_bundle",
    "spans_to_words",
    "word_bigram",
]
