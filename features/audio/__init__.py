"""Audio to arrays: ``reading`` (decoding, resampling, streaming), ``live`` (microphone, paced
file), ``vad`` (utterances at pauses), ``spectral`` (MFCC and log-mel, CMVN), ``augment``."""
