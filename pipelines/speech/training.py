"""Training a CTC recogniser of speech from a recipe: the recipe, and the speech side of the one
trainer (``training.trainer``), which owns the loop, checkpoints and resume.

What is speech's own: MFCC corpora cached once, a character tokenizer (kept from the bundle a
fine-tuned run starts from), batches prepared beside training by DataLoader workers and split into
one share per process under torchrun, a CTC loss whose shares add up to the whole batch's, and dev
WER decoded exactly as inference decodes. The epoch plan is a pure function of (seed, epoch) and
augmentation draws from a generator seeded by the step, so a resumed run replays its epoch exactly.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqrec.features import AudioAugmentConfig, SpectralConfig
from seqrec.models import (
    FORMAT_VERSION,
    CharTokenizer,
    DecodeOptions,
    EncoderDims,
    HeadDims,
    InferenceModel,
    ModelBundle,
    ModelDims,
    SequenceModel,
    lexicon_words,
    load_bundle,
    word_bigram,
)
from seqrec.models.bundle_files import feature_settings_problem
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.metrics import error_rates
from seqrec.pipelines.speech.data import (
    BatchMaker,
    Corpus,
    corpus_rows,
    load_corpus,
)
from seqrec.pipelines.speech.scoring import keep_vocabulary
from seqrec.pipelines.speech.stages import CTCRecognize
from seqrec.pipelines.training import trainer
from seqrec.pipelines.training.batching import PlannedBatches, plan_epoch
from seqrec.pipelines.training.distributed import Distributed
from seqrec.pipelines.training.recipes import (
    RecipeBase,
    check_at_least,
    check_fraction,
    check_start_features,
    start_bundle_config,
)


@dataclass(frozen=True)
class SpeechDataConfig:
    train: tuple[str, ...]
    dev: tuple[str, ...]
    # Training items are joined into connected sequences with this probability (up to join_max items).
    join_probability: float = 0.0
    join_max: int = 3
    # Kaldi's speed perturbation: the training set again at each of these speeds (e.g. [0.9, 1.1]).
    speeds: tuple[float, ...] = ()

    def __post_init__(self):
        for key in ("train", "dev"):
            if not getattr(self, key):
                raise ValueError(f"{key} must name at least one manifest")
        check_fraction(self, "join_probability")
        check_at_least(self, 1, "join_max")
        for speed in self.speeds:
            if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.1 <= speed <= 10:
                raise ValueError(f"speeds must be numbers between 0.1 and 10, not {speed!r}")


@dataclass(frozen=True, kw_only=True)
class SpeechRecipe(RecipeBase):
    """A CTC recogniser of speech: MFCC features, a closed vocabulary or open text."""

    data: SpeechDataConfig
    modality: str = "speech"
    features: SpectralConfig = field(default_factory=SpectralConfig)
    augment: AudioAugmentConfig | None = None  # audio augmentation; None trains on cached features
    decode: DecodeOptions = field(default_factory=DecodeOptions)  # stored in the bundle as its default
    task: str = "ctc"
    # A closed vocabulary: transcripts keep only these words, so speech outside it is trained
    # towards no output at all (rejection). Empty: every word in the data is a target.
    vocabulary: tuple[str, ...] = ()
    # With a closed vocabulary: a symbol (e.g. "#") that all speech outside it is trained to, one
    # per run of other words, instead of no output. A garbage model: the network learns "some
    # other word" as a class of its own rather than learning to hear speech as silence, and
    # decoding drops the symbol. Empty: other words are trained to no output.
    filler: str = ""

    def __post_init__(self):
        super().__post_init__()
        if self.task != "ctc":
            raise ValueError(f"task must be 'ctc' for speech, not {self.task!r}")
        if self.filler and (
            not self.vocabulary
            or len(self.filler.split()) != 1
            or self.filler != self.filler.lower()
            or self.filler in self.vocabulary
        ):
            raise ValueError(
                f"filler must be one lower-case symbol outside a closed vocabulary, not {self.filler!r}"
            )
        if self.modality != "speech":
            raise ValueError(f"modality must be 'speech', not {self.modality!r}")
        problem = feature_settings_problem(self.features.to_dict())
        if problem:
            raise ValueError(problem)


def train(recipe: SpeechRecipe, max_steps: int | None = None, log=print) -> Path:
    """Train (or resume) ``recipe`` and return the folder of the best-on-dev bundle.

    ``max_steps`` stops after that many optimiser steps in total, with a checkpoint, so a long
    run can be done over several sessions: run the same command again to go on. Under
    ``torchrun`` each process trains on its share of every batch (see ``trainer``).
    """
    return trainer.train(SpeechTraining(recipe), max_steps, log)


class SpeechTraining:
    """The speech side of the trainer (``trainer.TrainingTask``): MFCC corpora and a character
    tokenizer, batches prepared by DataLoader workers, each process's share of every batch under
    torchrun, a CTC loss, and WER on dev decoded as inference decodes."""

    score_name = "WER"
    distributed = True

    def __init__(self, recipe: SpeechRecipe):
        self.recipe = recipe
        # Per item, divided by its target length (as CTCLoss's "mean"), summed over this process's
        # share and divided by the whole batch's size: the shares' gradients add up to the batch's.
        self.ctc_loss = torch.nn.CTCLoss(blank=0, zero_infinity=True, reduction="none")

    def load_data(self, ranks: Distributed, log) -> str:
        recipe = self.recipe
        self.ranks = ranks
        # Everything a user can get wrong is found before the first feature is computed: the
        # bundle to start from, and every row of dev as well as of train.
        if recipe.train.init_from:
            _check_start(recipe, recipe.train.init_from)
        corpus_rows(recipe.data.dev)
        self.train_set = load_corpus(
            recipe.data.train,
            recipe.features,
            recipe.run_dir / "features",
            keep_audio=recipe.augment is not None,
            log=log,
            speeds=recipe.data.speeds,
        )
        self.dev_set = load_corpus(recipe.data.dev, recipe.features, recipe.run_dir / "features", log=log)
        if recipe.vocabulary:
            # Dev is scored as inference decodes: the filler is never output, so it is no reference word.
            self.train_set.texts = [
                keep_vocabulary(text, recipe.vocabulary, recipe.filler) for text in self.train_set.texts
            ]
            self.dev_set.texts = [keep_vocabulary(text, recipe.vocabulary) for text in self.dev_set.texts]
        return f"{len(self.train_set)} train / {len(self.dev_set)} dev utterances"

    def build_model(self, device: torch.device, fresh: bool, log) -> tuple[SequenceModel, list[str]]:
        recipe, cfg = self.recipe, self.recipe.train
        if device.type == "cpu" and cfg.loader_workers:
            # Leave the loader workers their cores: torch threads spinning beside them slow both.
            torch.set_num_threads(max(1, (os.cpu_count() or 1) - cfg.loader_workers))
        # A fine-tuned model keeps every character of the bundle it starts from, so its output
        # layer carries over.
        start = load_bundle(cfg.init_from) if cfg.init_from else None
        inherited = start.tokenizer.symbols[1:] if start and start.tokenizer else []
        self.tokenizer = CharTokenizer.from_texts([*recipe.vocabulary, *self.train_set.texts, *inherited])
        self.make_batch = BatchMaker(
            self.train_set, self.tokenizer, recipe.features, recipe.augment, cfg.spec_augment, cfg.seed
        )
        dims = ModelDims(
            encoder=EncoderDims(n_input=recipe.features.dim, **vars(recipe.model)),
            heads={"ctc": HeadDims("ctc", len(self.tokenizer))},
        )
        model = SequenceModel(dims).to(device)
        if start and fresh:
            _initialise_from(model, self.tokenizer, recipe.features, start, cfg.init_from)
            log(f"starting from the weights of {cfg.init_from}")
        return model, self.tokenizer.symbols

    def _plan(self, epoch: int) -> list[list[tuple[int, ...]]]:
        data, cfg = self.recipe.data, self.recipe.train
        return plan_epoch(
            self.train_set.lengths, cfg.batch_frames, cfg.seed, epoch, data.join_probability, data.join_max
        )

    def steps_per_epoch(self) -> int:
        return len(self._plan(0))

    def batches(self, epoch: int, start: int) -> Iterator[tuple[int, dict]]:
        plan = self._plan(epoch)
        # A batch smaller than the number of processes leaves some without items: they run
        # its first item with weight 0, so that every process still joins the gradient sum.
        shares = [self.ranks.shard(batch) for batch in plan]
        batches = torch.utils.data.DataLoader(
            PlannedBatches(
                [share or batch[:1] for share, batch in zip(shares, plan, strict=True)],
                self.make_batch,
                epoch,
                start=start,
            ),
            batch_size=None,
            num_workers=self.recipe.train.loader_workers,
            generator=torch.Generator(),  # keeps the loader from drawing on the global RNG (dropout's)
        )
        for index, batch in enumerate(batches, start=start):
            # The loss divides by the whole batch's size, and weighs an empty share's stand-in by 0.
            yield index, batch | {"batch_size": len(plan[index]), "weight": 1.0 if shares[index] else 0.0}

    def loss(self, outputs: dict, out_lengths: torch.Tensor, batch: dict) -> tuple[torch.Tensor, float]:
        log_probs = outputs["ctc"].transpose(0, 1)  # CTCLoss wants [T, B, V]
        item_losses = self.ctc_loss(log_probs, batch["targets"], out_lengths, batch["target_lengths"])
        per_item = item_losses / batch["target_lengths"].clamp(min=1).to(item_losses.device)
        share = per_item.sum() * batch["weight"]
        # DDP averages the processes' gradients; times world_size makes that their sum.
        loss = share * self.ranks.world_size / batch["batch_size"]
        return loss, self.ranks.sum(share.item()) / batch["batch_size"]

    def evaluate(self, model: SequenceModel) -> tuple[float, dict]:
        dev = evaluate_corpus(model, self.tokenizer, self.recipe, self.dev_set)
        return dev["wer"], dev

    def log_fields(self, dev: dict, frames: int, seconds: float) -> dict:
        return {
            "dev_wer": round(dev["wer"], 4),
            "dev_cer": round(dev["cer"], 4),
            "frames_per_second": round(frames / max(seconds, 1e-9)),
        }

    def bundle_config(self, epoch: int, step: int, dev: dict) -> dict:
        return _bundle_config(self.recipe, self.tokenizer, self.train_set, epoch, step, dev)


def evaluate_corpus(
    model: SequenceModel, tokenizer: CharTokenizer, recipe: SpeechRecipe, corpus: Corpus
) -> dict:
    """Decode a feature corpus with the same stage and the same decode options inference uses
    (the recipe's: greedy unless it says beam); WER and CER against its texts."""
    model.eval()
    config = {
        "features": recipe.features.to_dict(),
        "tokenizer": {"symbols": tokenizer.symbols},
        "vocabulary": list(recipe.vocabulary),
        "filler": recipe.filler,
        "decode": dataclasses.asdict(recipe.decode),
    }
    recognize = CTCRecognize(
        InferenceModel.from_torch(recipe.run_dir, config, model, tokenizer), batch_size=64
    )
    results = recognize.process_batch([{"features": f} for f in corpus.arrays])
    return error_rates(corpus.texts, [r["text"] for r in results])


def _bundle_config(
    recipe: SpeechRecipe, tokenizer: CharTokenizer, train_set: Corpus, epoch: int, step: int, dev: dict
) -> dict:
    return {
        "name": recipe.name,
        "format_version": FORMAT_VERSION,
        "modality": "speech",
        "description": recipe.description,
        "vocabulary": list(recipe.vocabulary),
        "filler": recipe.filler,
        "decode": dataclasses.asdict(recipe.decode),
        "features": recipe.features.to_dict(),
        "tokenizer": {"symbols": tokenizer.symbols},
        "training": {
            "recipe": recipe.to_dict(),
            "utterances": len(train_set),
            "hours": round(float(train_set.lengths.sum()) * recipe.features.frame_seconds / 3600, 3),
            "epoch": epoch,
            "step": step,
        },
        "metrics": {"dev": dev},
    } | (
        {
            "language_model": {
                "bigram": word_bigram(train_set.texts, lexicon_words(recipe.vocabulary, recipe.filler))
            }
        }
        if recipe.vocabulary
        else {}
    )


def _check_start(recipe: SpeechRecipe, bundle: str) -> None:
    """What ``_initialise_from`` will check and can check before any data is read: the bundle loads
    as a config, with this recipe's features and encoder dims."""
    config = start_bundle_config(bundle, "speech", recipe.features.to_dict())
    encoder = EncoderDims(n_input=recipe.features.dim, **vars(recipe.model))
    stored = config.get("dims", {}).get("encoder")
    try:
        same = EncoderDims(**stored) == encoder
    except TypeError:  # no dims, or dims of another layout: load_bundle says which
        same = True
    if not same:
        raise ConfigError(
            f"train.init_from: {bundle}: its encoder dims {stored} differ from this recipe's "
            f"{dataclasses.asdict(encoder)}"
        )


def _initialise_from(
    model: SequenceModel, tokenizer: CharTokenizer, features: SpectralConfig, source: ModelBundle, bundle: str
) -> None:
    """Copy the weights of ``source`` (loaded from ``bundle``) into ``model``: the same features,
    the same encoder dims, and characters that this recipe's include (``train`` adds the bundle's
    to the recipe's), or an error. Characters the bundle lacks (a new filler symbol) keep their
    fresh initialisation in the CTC output layer; the others are copied row by row."""
    check_start_features(source.config.get("features"), features.to_dict(), bundle)
    if source.tokenizer is None or not set(source.tokenizer.symbols) <= set(tokenizer.symbols):
        raise ConfigError(
            f"{bundle}: it has characters this recipe's lack, so its weights cannot start this run"
        )
    if source.model.dims.encoder != model.dims.encoder or set(source.model.dims.heads) != set(
        model.dims.heads
    ):
        raise ConfigError(f"{bundle}: its dims {source.model.dims} differ from this recipe's {model.dims}")
    weights = source.model.state_dict()
    target = model.state_dict()
    rows = torch.tensor([tokenizer.symbols.index(symbol) for symbol in source.tokenizer.symbols])
    for name, tensor in weights.items():
        if tensor.shape != target[name].shape:  # the CTC output layer: one row per character
            target[name][rows] = tensor
        else:
            target[name] = tensor
    model.load_state_dict(target)
