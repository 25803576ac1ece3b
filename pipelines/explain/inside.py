"""What a model does with one input, as arrays: its features, every gate of its recurrence over
time, which moments its output depends on, and what its heads say.

The gates are read from the trained weights: the recurrence of the model that ran is replayed
step by step by ``models.recurrent_steps`` (tested against torch at every step, layer and
direction), on the very inputs the recurrence got in torch. The saliency is the gradient of the
output's score with respect to the network's input features, times those features (gradient ×
input): how much each feature of each frame moved the score.

``explain`` needs torch (the gradient and the bundle's weights); ``page.write_page`` draws the
arrays as one HTML file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqrec.features import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, InputError
from seqrec.models import BundleError, ModelBundle, load_bundle, read_bundle_config
from seqrec.models.recurrent_steps import recurrent_steps

MAX_AUDIO_SECONDS = 30.0  # beyond it, units × time pictures are too dense to read; cut the clip
MAX_VIDEO_FRAMES = 900  # 30 s at 30 fps
THUMBNAILS = 6  # frames of a video shown with their landmarks


@dataclass
class Explanation:
    """One input through one model. Times are seconds from the input's start.

    Attributes
    ----------
    path, model, modality ("speech" or "hands"), cell ("lstm", "gru" or "rnn")
    result : the record ``seqrec transcribe`` or ``seqrec gestures`` gives for this input
    features : [T, D] the network's input (MFCCs and deltas, or landmark features)
    feature_times : [T] each feature frame's time
    step_times : [T'] each recurrent step's time (a step reads ``stack`` frames)
    layers : per layer, bottom first, {direction: {name: [T', H]}}: LSTM ``input_gate``,
        ``forget_gate``, ``cell_candidate``, ``output_gate``, ``cell``, ``hidden``; GRU
        ``reset_gate``, ``update_gate``, ``candidate``, ``hidden``; RNN ``hidden``
    saliency : [T, D] gradient × input of ``saliency_target``
    saliency_target : what the saliency is the gradient of, in words
    ctc : per CTC head, ``{"symbols": [V] (blank first), "posteriors": [T', V], "best_path": [T']}``
    classifier : per classifier head, ``{"labels": [L], "probabilities": [N, L], "times": [N]}``:
        the probabilities of each window the recogniser classifies (a photo: one), at the time of
        the window's last frame
    waveform, sample_rate : speech: the audio as the model got it
    landmarks, present : hands: [T, 2, 21, 3] and [T, 2] (slot 0 the right hand, 1 the left)
    thumbnails : hands: a few (time, RGB picture with its landmarks drawn)
    """

    path: str
    model: str
    modality: str
    cell: str
    result: dict
    features: np.ndarray
    feature_times: np.ndarray
    step_times: np.ndarray
    layers: list[dict[str, dict[str, np.ndarray]]]
    saliency: np.ndarray
    saliency_target: str
    ctc: dict[str, dict] = field(default_factory=dict)
    classifier: dict[str, dict] = field(default_factory=dict)
    waveform: np.ndarray | None = None
    sample_rate: int | None = None
    landmarks: np.ndarray | None = None
    present: np.ndarray | None = None
    thumbnails: list[tuple[float, np.ndarray]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        if self.waveform is not None:
            return len(self.waveform) / self.sample_rate
        step = float(np.median(np.diff(self.feature_times))) if len(self.feature_times) > 1 else 1 / 30
        return float(self.feature_times[-1]) + step


def explain(path: str | os.PathLike, model: str | os.PathLike | None = None) -> Explanation:
    """Explain one audio file, photo or video (``model``: a bundled name or a bundle folder; by
    default the default model of the input's kind, told by its extension).

    Raises
    ------
    InputError
        the input cannot be read, holds no speech or no hand, or is too long to draw
    BundleError
        the model is missing or broken
    """
    path = os.fspath(path)
    if model is None:
        from seqrec.models import DEFAULT_SPEECH_MODEL
        from seqrec.pipelines.hands import DEFAULT_GESTURE_MODEL

        model = DEFAULT_SPEECH_MODEL if _is_audio(path) else DEFAULT_GESTURE_MODEL
    modality = read_bundle_config(model).get("modality", "speech")
    if modality == "speech":
        return _explain_speech(path, model)
    if modality == "hands":
        return _explain_hands(path, model)
    raise BundleError(f"{model}: a model for {modality}, which explain does not know")


def _is_audio(path: str) -> bool:
    """By the extension; a video's (which may hold sound too) counts as pictures."""
    suffix = Path(path).suffix.lower()
    return suffix not in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS


def _explain_speech(path: str, model: str | os.PathLike) -> Explanation:
    from seqrec.pipelines.speech.transcriber import Transcriber, result_record

    transcriber = Transcriber(model)  # the default runtime: the result is what transcribe prints
    sample = transcriber.pipeline[:"features"]({"path": path})
    if "error" in sample:
        raise InputError(path, sample["error"])
    seconds = len(sample["audio"]) / sample["sample_rate"]
    if seconds > MAX_AUDIO_SECONDS:
        raise InputError(path, f"{seconds:.0f} s of audio; explain draws up to {MAX_AUDIO_SECONDS:.0f} s")
    if sample.get("note"):
        raise InputError(path, sample["note"])
    result = result_record(transcriber.pipeline["recognize":](sample))
    bundle = load_bundle(model)
    frame_seconds = transcriber.pipeline["features"].config.frame_seconds
    features = np.asarray(sample["features"], np.float32)
    inside = _network_inside(bundle, features)
    return _explained(
        path,
        bundle,
        result,
        features,
        np.arange(len(features)) * frame_seconds,
        inside,
        waveform=np.asarray(sample["audio"], np.float32),
        sample_rate=int(sample["sample_rate"]),
    )


def _explain_hands(path: str, model: str | os.PathLike) -> Explanation:
    from seqrec.pipelines.hands.model import frame_times
    from seqrec.pipelines.hands.recognizer import GestureRecognizer, result_record
    from seqrec.pipelines.hands.stream import window_probabilities, windows_over_time

    with GestureRecognizer(model) as recognizer:
        sample = recognizer.pipeline[:"sequence"]({"path": path})
        if "error" in sample:
            raise InputError(path, sample["error"])
        sequence = sample["sequence"]
        if len(sequence) > MAX_VIDEO_FRAMES:
            raise InputError(path, f"{len(sequence)} frames; explain draws up to {MAX_VIDEO_FRAMES}")
        if not sequence.found:
            raise InputError(path, "no hand in view: nothing for the model to explain")
        result = result_record(recognizer.pipeline["recognize":](sample))
        gestures = recognizer.model
        bundle = load_bundle(model)
        features = np.asarray(gestures.features_of(sequence), np.float32)
        inside = _network_inside(bundle, features)
        times = frame_times(sequence)
        classifier = {}
        if gestures.classifier_heads:
            if sample["media"] == "video":
                windows = windows_over_time(gestures, sample["frame_hands"])
            else:
                windows = [(0, sequence)]
            probabilities = window_probabilities(gestures, [w for _, w in windows])
            for head in gestures.classifier_heads:
                rows = [
                    p[head.name] if p is not None else np.full(len(head.labels), np.nan)
                    for p in probabilities
                ]
                classifier[head.name] = {
                    "labels": list(head.labels),
                    "probabilities": np.array(rows, np.float32),
                    "times": np.array([times[i] for i, _ in windows]),
                }
    return _explained(
        path,
        bundle,
        result,
        features,
        times,
        inside,
        classifier=classifier,
        landmarks=sequence.landmarks,
        present=sequence.present,
        thumbnails=_thumbnails(path, sample, times),
    )


def _explained(
    path: str,
    bundle: ModelBundle,
    result: dict,
    features: np.ndarray,
    feature_times: np.ndarray,
    inside: _NetworkInside,
    **inputs,
) -> Explanation:
    """The fields every input has, and ``inputs``' own; a step's time is its first frame's."""
    return Explanation(
        path=path,
        model=bundle.name,
        modality=bundle.config.get("modality", "speech"),
        cell=bundle.model.dims.encoder.cell,
        result=result,
        features=features,
        feature_times=feature_times,
        step_times=feature_times[:: inside.stack],
        layers=inside.layers,
        saliency=inside.saliency,
        saliency_target=inside.target,
        ctc=inside.ctc,
        **inputs,
    )


@dataclass
class _NetworkInside:
    stack: int
    layers: list
    saliency: np.ndarray
    target: str
    ctc: dict[str, dict]  # as ``Explanation.ctc``


def _network_inside(bundle: ModelBundle, features: np.ndarray) -> _NetworkInside:
    """One sequence through the torch model: the recurrence's own inputs (captured by a hook),
    replayed to read the gates; and the gradient of the output's score."""
    import torch
    from torch.nn.utils.rnn import pad_packed_sequence

    network = bundle.model.eval()
    encoder = network.encoder
    inputs = torch.as_tensor(features)[None].requires_grad_(True)
    captured = []
    hook = encoder.lstm.register_forward_hook(lambda module, args, output: captured.append(args[0]))
    try:
        outputs, _ = network(inputs, torch.tensor([len(features)]))
    finally:
        hook.remove()
    recurrence_inputs, _ = pad_packed_sequence(captured[0], batch_first=True)
    weights = {name: value.detach().numpy() for name, value in encoder.lstm.state_dict().items()}
    layers = recurrent_steps(weights, encoder.dims.cell, recurrence_inputs[0].detach().numpy())

    symbols = list(bundle.tokenizer.symbols) if bundle.tokenizer else []
    ctc, scores, targets = {}, [], []
    for name, head_output in outputs.items():
        values = head_output[0]
        if values.ndim == 2:  # CTC: [T', V]; the score is the best path's log-probability
            best = values.argmax(dim=-1)
            posteriors = values.detach().exp().numpy()
            ctc[name] = {"symbols": symbols, "posteriors": posteriors, "best_path": best.numpy()}
            scores.append(values.gather(1, best[:, None]).sum())
            targets.append(f"the log-probability of {name}'s best path")
        else:  # a classifier: the top label's log-probability
            top = int(values.argmax())
            scores.append(values[top])
            labels = bundle.config.get("heads", {}).get(name, {}).get("labels")
            targets.append(f"the log-probability of {name}'s label {labels[top] if labels else top!r}")
    sum(scores).backward()
    saliency = (inputs.grad[0] * inputs[0]).detach().numpy()
    return _NetworkInside(encoder.dims.stack, layers, saliency, " plus ".join(targets), ctc)


def _thumbnails(path: str, sample: dict, times: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """A photo with its landmarks, or ``THUMBNAILS`` frames spread over a video (decoded again:
    the recogniser keeps landmarks, not pictures)."""
    import cv2

    from seqrec.features import FrameSource
    from seqrec.pipelines.hands.overlay import draw_overlay

    frame_hands = sample["frame_hands"]

    def drawn(rgb: np.ndarray, hands) -> np.ndarray:
        bgr = draw_overlay(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), hands)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    if sample["media"] == "image":
        return [(0.0, drawn(sample["image"], frame_hands[0]))]
    wanted = set(np.linspace(0, len(frame_hands) - 1, THUMBNAILS).round().astype(int).tolist())
    pictures = []
    with FrameSource(path) as video:
        for index, (_, frame) in enumerate(video):
            if index in wanted:
                pictures.append((float(times[index]), drawn(frame, frame_hands[index])))
            if index >= max(wanted):
                break
    return pictures
