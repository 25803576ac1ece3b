"""Training a CTC recogniser from a recipe: one readable loop, checkpoints with exact resume.

The loop is deterministic given the recipe's seed: the epoch plan is a pure function of
(seed, epoch), augmentation draws from a generator seeded by the step, and the checkpoint holds
the model, optimiser, scheduler and the torch RNG (dropout). A run stopped at any checkpoint and
resumed ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqrec.features import AudioAugmentConfig, SpectralConfig
from seqrec.models import (
    CharTokenizer,
    DecodeOptions,
    EncoderDims,
    HeadDims,
    ModelBundle,
    ModelDims,
    SequenceModel,
    lexicon_words,
    load_bundle,
    save_bundle,
    word_bigram,
)
from seqrec.pipelines.core.device import resolve_device
from seqrec.pipelines.core.metrics import error_rates
from seqrec.pipelines.speech.data import (
    BatchMaker,
    Corpus,
    keep_vocabulary,
    load_corpus,
)
from seqrec.pipelines.speech.stages import CTCRecognize
from seqrec.pipelines.training.batching import PlannedBatches, plan_epoch
from seqrec.pipelines.training.checkpoints import (
    TrainingLog,
    optimizer_step,
    restore_checkpoint,
    save_checkpoint,
    warmup_cosine,
)
from seqrec.pipelines.training.distributed import Distributed
from seqrec.pipelines.training.recipes import RecipeBase


@dataclass(frozen=True)
class SpeechDataConfig:
    train: tuple[str, ...]
    dev: tuple[str, ...]
    # Training items are joined into connected sequences with this probability (up to join_max items).
    join_probability: float = 0.0
    join_max: int = 3
    # Kaldi's speed perturbation: the training set again at each of these speeds (e.g. [0.9, 1.1]).
    speeds: tuple[float, ...] = ()


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


CHECKPOINT_FILE = "checkpoint.pt"
BEST_DIR = "best"
BUNDLE_FORMAT_VERSION = 1


def train(recipe: SpeechRecipe, max_steps: int | None = None, log=print) -> Path:
    """Train (or resume) ``recipe`` and return the folder of the best-on-dev bundle.

    ``max_steps`` stops after that many optimiser steps in total, with a checkpoint, so a long
    run can be done over several sessions: run the same command again to go on.

    Under ``torchrun`` each process trains on its share of every batch (see ``distributed``);
    the global batch, and so the result, is the one a single process would train on.
    """
    run_dir = recipe.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = recipe.train
    device = resolve_device(cfg.device)
    ranks = Distributed.from_environment(device)
    device = ranks.device(device)
    if not ranks.is_main:
        log = _silent
    if device.type == "cpu" and cfg.loader_workers:
        # Leave the loader workers their cores: torch threads spinning beside them slow both.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) - cfg.loader_workers))
    torch.manual_seed(cfg.seed)

    if not ranks.is_main:
        ranks.barrier()  # rank 0 computes and caches the features first; the others then read them
    train_set = load_corpus(
        recipe.data.train,
        recipe.features,
        run_dir / "features",
        keep_audio=recipe.augment is not None,
        log=log,
        speeds=recipe.data.speeds,
    )
    dev_set = load_corpus(recipe.data.dev, recipe.features, run_dir / "features", log=log)
    if ranks.is_main:
        ranks.barrier()
    if recipe.vocabulary:
        # Dev is scored as inference decodes: the filler is never output, so it is no reference word.
        train_set.texts = [
            keep_vocabulary(text, recipe.vocabulary, recipe.filler) for text in train_set.texts
        ]
        dev_set.texts = [keep_vocabulary(text, recipe.vocabulary) for text in dev_set.texts]
    # A fine-tuned model keeps every character of the bundle it starts from, so its output layer carries over.
    start = load_bundle(cfg.init_from) if cfg.init_from else None
    inherited = start.tokenizer.symbols[1:] if start and start.tokenizer else []
    tokenizer = CharTokenizer.from_texts([*recipe.vocabulary, *train_set.texts, *inherited])
    make_batch = BatchMaker(train_set, tokenizer, recipe.features, recipe.augment, cfg.spec_augment, cfg.seed)
    dims = ModelDims(
        encoder=EncoderDims(n_input=recipe.features.dim, **vars(recipe.model)),
        heads={"ctc": HeadDims("ctc", len(tokenizer))},
    )
    model = SequenceModel(dims).to(device)
    if start and not (run_dir / CHECKPOINT_FILE).is_file():
        _initialise_from(model, tokenizer, recipe.features, start, cfg.init_from)
        log(f"starting from the weights of {cfg.init_from}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(
        plan_epoch(
            train_set.lengths,
            cfg.batch_frames,
            cfg.seed,
            0,
            recipe.data.join_probability,
            recipe.data.join_max,
        )
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(cfg.warmup_steps, cfg.epochs * steps_per_epoch)
    )
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    autocast = torch.autocast("cuda", dtype=torch.float16) if use_amp else contextlib.nullcontext()
    # Per item, divided by its target length (as CTCLoss's "mean"), summed over this process's
    # share and divided by the whole batch's size: the shares' gradients add up to the batch's.
    ctc_loss = torch.nn.CTCLoss(blank=0, zero_infinity=True, reduction="none")
    network = ranks.wrap(model)

    state = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "best_wer": math.inf, "best_epoch": -1}
    checkpoint_path = run_dir / CHECKPOINT_FILE
    if checkpoint_path.is_file():
        state = restore_checkpoint(checkpoint_path, model, optimizer, scheduler, scaler, tokenizer.symbols)
        log(f"resuming {recipe.name} at epoch {state['epoch']}, step {state['global_step']}")

    def checkpoint():
        if ranks.is_main:
            save_checkpoint(checkpoint_path, model, optimizer, scheduler, scaler, tokenizer.symbols, state)

    log(
        f"training {recipe.name}: {len(train_set)} train / {len(dev_set)} dev utterances, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters, "
        f"{steps_per_epoch} steps per epoch on {device}"
    )
    stopped = False
    with TrainingLog(run_dir, enabled=ranks.is_main) as train_log:
        while state["epoch"] < cfg.epochs:
            epoch = state["epoch"]
            plan = plan_epoch(
                train_set.lengths,
                cfg.batch_frames,
                cfg.seed,
                epoch,
                recipe.data.join_probability,
                recipe.data.join_max,
            )
            started, frames, losses = time.perf_counter(), 0, []
            batch_sizes = [len(batch) for batch in plan]
            # A batch smaller than the number of processes leaves some without items: they run
            # its first item with weight 0, so that every process still joins the gradient sum.
            shares = [ranks.shard(batch) for batch in plan]
            weights = [1.0 if share else 0.0 for share in shares]
            batches = torch.utils.data.DataLoader(
                PlannedBatches(
                    [share or batch[:1] for share, batch in zip(shares, plan, strict=True)],
                    make_batch,
                    epoch,
                    start=state["step_in_epoch"],
                ),
                batch_size=None,
                num_workers=cfg.loader_workers,
                generator=torch.Generator(),  # keeps the loader from drawing on the global RNG (dropout's)
            )
            for index, batch in enumerate(batches, start=state["step_in_epoch"]):
                if max_steps is not None and state["global_step"] >= max_steps:
                    stopped = True
                    break
                model.train()
                with autocast:
                    outputs, out_lengths = network(batch["features"].to(device), batch["lengths"])
                log_probs = outputs["ctc"].transpose(0, 1)  # CTCLoss wants [T, B, V]
                item_losses = ctc_loss(log_probs, batch["targets"], out_lengths, batch["target_lengths"])
                share = (
                    item_losses / batch["target_lengths"].clamp(min=1).to(item_losses.device)
                ).sum() * weights[index]
                # DDP averages the processes' gradients; times world_size makes that their sum.
                loss = share * ranks.world_size / batch_sizes[index]
                optimizer_step(loss, model, optimizer, scheduler, scaler, cfg.grad_clip)
                state["global_step"] += 1
                state["step_in_epoch"] = index + 1
                frames += int(batch["lengths"].sum())
                losses.append(ranks.sum(share.item()) / batch_sizes[index])
                train_log.step(state["global_step"], losses[-1], scheduler.get_last_lr()[0])
                if state["global_step"] % cfg.checkpoint_every == 0:
                    checkpoint()
            if stopped:
                checkpoint()
                log(f"stopped at step {state['global_step']} (--max-steps); run again to resume")
                break
            seconds = time.perf_counter() - started
            frames = int(ranks.sum(frames))
            state["epoch"], state["step_in_epoch"] = epoch + 1, 0
            if not ranks.is_main:
                continue  # rank 0 alone scores, keeps the best and logs; the others go on
            dev = evaluate_corpus(model, tokenizer, recipe, dev_set)
            improved = dev["wer"] < state["best_wer"]
            if improved:
                state["best_wer"], state["best_epoch"] = dev["wer"], epoch
                bundle_config = _bundle_config(recipe, tokenizer, train_set, epoch, state["global_step"], dev)
                save_bundle(run_dir / BEST_DIR, model, bundle_config)
            summary = {
                "epoch": epoch,
                "step": state["global_step"],
                "train_loss": round(sum(losses) / max(len(losses), 1), 4),
                "dev_wer": round(dev["wer"], 4),
                "dev_cer": round(dev["cer"], 4),
                "frames_per_second": round(frames / max(seconds, 1e-9)),
                "best": improved,
            }
            train_log.epoch(summary)
            log(json.dumps(summary))
            checkpoint()
    if not stopped:
        log(f"best dev WER {state['best_wer']:.4f} at epoch {state['best_epoch']}: {run_dir / BEST_DIR}")
    del network  # DDP holds the process group: close() can only shut it down once the wrapper is gone
    ranks.close()
    return run_dir / BEST_DIR


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
    recognize = CTCRecognize(ModelBundle(recipe.run_dir, config, model, tokenizer), batch_size=64)
    results = recognize.process_batch([{"features": f} for f in corpus.arrays])
    return error_rates(corpus.texts, [r["text"] for r in results])


def _bundle_config(
    recipe: SpeechRecipe, tokenizer: CharTokenizer, train_set: Corpus, epoch: int, step: int, dev: dict
) -> dict:
    return {
        "name": recipe.name,
        "format_version": BUNDLE_FORMAT_VERSION,
        "task": "ctc",
        "modality": "audio",
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


def _initialise_from(
    model: SequenceModel, tokenizer: CharTokenizer, features: SpectralConfig, source: ModelBundle, bundle: str
) -> None:
    """Copy the weights of ``source`` (loaded from ``bundle``) into ``model``: the same features,
    the same encoder dims, and characters that this recipe's include (``train`` adds the bundle's
    to the recipe's), or an error. Characters the bundle lacks (a new filler symbol) keep their
    fresh initialisation in the CTC output layer; the others are copied row by row."""
    if source.config.get("features") != features.to_dict():
        # Same dims, other numbers (another sample rate, say): the weights would fit and mislead.
        raise ValueError(
            f"{bundle}: its features {source.config.get('features')} "
            f"differ from this recipe's {features.to_dict()}"
        )
    if source.tokenizer is None or not set(source.tokenizer.symbols) <= set(tokenizer.symbols):
        raise ValueError(
            f"{bundle}: it has characters this recipe's lack, so its weights cannot start this run"
        )
    if source.model.dims.encoder != model.dims.encoder or set(source.model.dims.heads) != set(
        model.dims.heads
    ):
        raise ValueError(f"{bundle}: its dims {source.model.dims} differ from this recipe's {model.dims}")
    weights = source.model.state_dict()
    target = model.state_dict()
    rows = torch.tensor([tokenizer.symbols.index(symbol) for symbol in source.tokenizer.symbols])
    for name, tensor in weights.items():
        if tensor.shape != target[name].shape:  # the CTC output layer: one row per character
            target[name][rows] = tensor
        else:
            target[name] = tensor
    model.load_state_dict(target)


def _silent(*_args) -> None:
    """The log of a process other than rank 0: one voice is enough."""
