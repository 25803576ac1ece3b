"""Long recordings: decoded in blocks, cut into utterances at pauses, transcribed in bounded memory.

Every long input is real clips from tests/data laid end to end with pauses of digital silence or
low noise between them (the ``join_clips`` fixture), so where each clip lies is known exactly.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from seqrec.features import InputError, StreamingSegmenter, VadConfig, load_audio, stream_audio
from seqrec.pipelines import Transcriber
from seqrec.pipelines.speech.long_audio import LONG_AUDIO_SECONDS

# Single words whose speech fills the clip (FSDD's are trimmed; the Speech Commands "stop" has a
# noise floor as loud as its quiet parts): an utterance found there spans the clip itself.
FILLED = ["3_jackson_0.wav", "7_theo_1.wav", "0_nicolas_2.wav", "sc_stop_0fa1e7a9_nohash_0.flac"]
# One word somewhere inside a second of quiet.
INSIDE = [
    "sc_yes_03401e93_nohash_0.flac",
    "sc_left_189cbabe_nohash_0.flac",
    "samples/tflite_micro_yes_1000ms.wav",
    "samples/tflite_micro_no_1000ms.wav",
]
# Three words with pauses between them long enough to be three utterances.
ONE_TWO_THREE = "samples/speech_recognition_english.wav"
TOLERANCE = 0.15
PADDING = VadConfig().padding
DEFAULT_VAD = VadConfig()


def _segments(
    joined, block_seconds: float = 1.0, config: VadConfig = DEFAULT_VAD
) -> list[tuple[float, float]]:
    segmenter = StreamingSegmenter(joined.sample_rate, config)
    blocks = stream_audio(joined.path, joined.sample_rate, block_seconds)
    return [(start, start + audio.size / joined.sample_rate) for start, audio in segmenter.segments(blocks)]


@pytest.fixture(scope="module")
def transcriber(bundled_model) -> Transcriber:
    return Transcriber(bundled_model, device="cpu")


# -- decoding in blocks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["pcm_24_wav", "stereo_wav", "rate_8k_wav", "rate_48k_wav", "mp3", "m4a_aac"]
)
def test_stream_audio_blocks_join_to_what_load_audio_decodes(bad_inputs, case):
    whole = load_audio(bad_inputs[case])
    blocks = list(stream_audio(bad_inputs[case], block_seconds=0.1))
    assert {block.size for block in blocks[:-1]} == {1600}
    joined = np.concatenate(blocks)
    assert abs(joined.size - whole.size) <= 1
    n = min(joined.size, whole.size)
    np.testing.assert_allclose(joined[:n], whole[:n], atol=1e-5)


def test_stream_audio_refuses_what_load_audio_refuses_with_the_same_reason(bad_inputs):
    for case in ("nonexistent", "empty_wav", "corrupt_header_wav", "text_as_wav"):
        with pytest.raises(InputError) as streamed:
            next(stream_audio(bad_inputs[case]))
        with pytest.raises(InputError) as loaded:
            load_audio(bad_inputs[case])
        assert str(streamed.value) == str(loaded.value)


def test_stream_audio_checks_the_length_limit_from_the_header(data_dir):
    path = data_dir / "samples" / "pocketsphinx_goforward.wav"  # 2.786 s
    with pytest.raises(InputError, match=r": audio is 2\.8 s long; the limit is 2 s$"):
        next(stream_audio(path, max_seconds=2))


# -- segmentation -------------------------------------------------------------------------------


def test_one_utterance_per_clip_at_the_clip_boundaries(join_clips):
    joined = join_clips(FILLED + INSIDE)
    segments = _segments(joined)
    assert len(segments) == len(joined.clips)
    for (name, clip_start, clip_end), (start, end) in zip(joined.clips, segments, strict=False):
        speech = (start + PADDING, end - PADDING)  # the padding is pause on purpose
        assert clip_start - TOLERANCE <= speech[0] < speech[1] <= clip_end + TOLERANCE, (
            name,
            clip_start,
            clip_end,
            speech,
        )
        if name in FILLED:
            assert speech == pytest.approx((clip_start, clip_end), abs=TOLERANCE), name


def test_utterances_do_not_depend_on_the_block_size(join_clips):
    joined = join_clips(FILLED + INSIDE + [ONE_TWO_THREE])
    reference = _segments(joined, 1.0)
    for block_seconds in (0.1, 0.37, 7.0):
        assert _segments(joined, block_seconds) == reference


def test_an_utterance_longer_than_the_limit_is_cut_in_a_pause(join_clips):
    # Pauses of 0.1-0.25 s are shorter than min_silence: without the limit this is one utterance.
    joined = join_clips(FILLED, repeat=8, gap=(0.1, 0.25))
    config = VadConfig(max_seconds=6.0)
    segments = _segments(joined, config=config)
    assert len(segments) >= 3
    assert all(end - start <= config.max_seconds + 1e-6 for start, end in segments)
    pauses = [(a[2], b[1]) for a, b in zip(joined.clips, joined.clips[1:], strict=False)]
    for (_, cut), (start, _) in itertools.pairwise(segments):
        assert cut == start  # a cut loses nothing
        assert any(lo - 0.03 <= cut <= hi + 0.03 for lo, hi in pauses), cut


# -- transcription --------------------------------------------------------------------------------


# Pauses of one kind: the quiet "seven" can change when its padding is half digital silence and
# half noise, a context neither the clip alone nor any real recording gives.
@pytest.mark.parametrize("pauses", ["noise", "silence"])
def test_a_long_file_gives_the_words_of_each_clip_alone_at_file_times(
    transcriber, utterances_alone, join_clips, data_dir, pauses
):
    names = FILLED + INSIDE + [ONE_TWO_THREE]
    joined = join_clips(names, repeat=3, pauses=pauses)
    assert joined.seconds > LONG_AUDIO_SECONDS
    alone = {
        name: record
        for name, record in zip(
            names, transcriber.transcribe_paths([str(data_dir / n) for n in names]), strict=False
        )
    }

    [record] = transcriber.transcribe_paths([str(joined.path)])
    assert set(record) == {"path", "text", "score", "duration", "words"}
    assert record["duration"] == pytest.approx(joined.seconds, abs=1e-3)
    assert record["text"] == " ".join(w["word"] for w in record["words"])
    assert 0 < record["score"] <= 1

    # Batching and file times change nothing: each utterance the segmenter finds, recognised on
    # its own and shifted to where it starts, gives exactly these words and times.
    assert record["words"] == [
        word for sample in utterances_alone(transcriber, joined.path) for word in sample["words"]
    ]

    # Each clip gives the words it gives alone, inside its own span. An utterance is a clip with
    # 0.15 s of the pauses as padding, and padding can tip a word the model is unsure of (noise
    # around FSDD's 8 kHz takes, which start and end on the word, is one such context); a clip so
    # tipped may differ in all its three plays, and more than two such clips is a failure.
    expected = [
        (word["word"], name, start) for name, start, _ in joined.clips for word in alone[name]["words"]
    ]
    assert len(record["words"]) == len(expected)
    tipped = {
        name for got, (word, name, _) in zip(record["words"], expected, strict=False) if got["word"] != word
    }
    assert len(tipped) <= 2, tipped
    spans = {start: end for _, start, end in joined.clips}
    for word, (_, name, clip_start) in zip(record["words"], expected, strict=False):
        middle = (word["start"] + word["end"]) / 2
        assert clip_start <= middle <= spans[clip_start], (name, clip_start, word)
        assert (
            clip_start - PADDING - 0.05 <= word["start"] <= word["end"] <= spans[clip_start] + PADDING + 0.05
        ), (name, word)


def test_long_and_short_files_together_keep_their_order(transcriber, join_clips, data_dir):
    joined = join_clips(FILLED + INSIDE, repeat=3, pauses="noise", sample_rate=8_000)
    short = [str(data_dir / name) for name in ("3_jackson_0.wav", "sc_stop_0fa1e7a9_nohash_0.flac")]
    records = list(transcriber.transcribe_paths([short[0], str(joined.path), short[1]]))
    assert [record["path"] for record in records] == [short[0], str(joined.path), short[1]]
    assert [records[0]["text"], records[2]["text"]] == ["three", "stop"]
    assert records[1]["duration"] == pytest.approx(joined.seconds, abs=1e-3)


def test_a_file_longer_than_the_whole_file_limit_is_transcribed(transcriber, join_clips):
    # 21 minutes, mostly pauses: past MAX_SECONDS (20 min), which only whole-file decoding keeps.
    joined = join_clips(
        ["3_jackson_0.wav", "sc_stop_0fa1e7a9_nohash_0.flac"], repeat=3, gap=(200, 220), sample_rate=8_000
    )
    assert joined.seconds > 20 * 60
    [record] = transcriber.transcribe_paths([str(joined.path)])
    assert record["text"] == "three stop three stop three stop"
    assert record["duration"] == pytest.approx(joined.seconds, abs=1e-3)


# Memory now (VmRSS) before, the peak (ru_maxrss) after: growth from where the process stands,
# not hidden under an earlier peak (loading torch and the model peaks higher than it settles).
MEMORY_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    import torch
    torch.set_num_threads(1)
    from seqrec.pipelines import Transcriber

    def resident_kb():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    transcriber = Transcriber(device="cpu")
    next(transcriber.transcribe_paths([sys.argv[1]]))  # warm-up: lazy imports, allocator pools
    baseline = resident_kb()
    record = next(transcriber.transcribe_paths([sys.argv[2]]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "baseline_kb": baseline,
        "peak_kb": peak,
        "words": len(record.get("words", [])),
        "error": record.get("error"),
    }))
    """
)


def _memory_probe(warm_up, path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(warm_up), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads VmRSS from /proc")
def test_ten_minutes_transcribe_without_memory_growing_with_the_length(join_clips, data_dir, bundled_model):
    # 48 kHz stereo: decoded whole, these 10 minutes alone would take 230 MB as float32. The
    # allocator's own slack varies from run to run, so compare a file four times shorter: whatever
    # grows with the length shows as the difference between the two.
    long = join_clips(
        FILLED + INSIDE, repeat=40, gap=(0.4, 1.6), sample_rate=48_000, channels=2, name="long.wav"
    )
    short = join_clips(
        FILLED + INSIDE, repeat=10, gap=(0.4, 1.6), sample_rate=48_000, channels=2, name="short.wav"
    )
    assert long.seconds > 9 * 60
    probes = {
        name: _memory_probe(data_dir / "3_jackson_0.wav", joined.path)
        for name, joined in (("long", long), ("short", short))
    }
    assert probes["long"]["error"] is None
    assert probes["long"]["words"] >= 0.9 * len(long.clips)
    growth_mb = {name: (p["peak_kb"] - p["baseline_kb"]) / 1024 for name, p in probes.items()}
    # Streamed: a few MB either way; decoded whole, the extra 7.5 minutes would add about 170 MB.
    assert growth_mb["long"] - growth_mb["short"] < 60, probes
