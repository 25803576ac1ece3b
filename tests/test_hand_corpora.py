"""The letters corpus is split by blocks of time, never frame by frame."""

import numpy as np

from seqrec.pipelines.hands.corpora import SPLITS, asl_letter_sets


def test_each_letters_take_is_cut_into_contiguous_blocks(tmp_path):
    rng = np.random.default_rng(0)
    frames_per_letter = 40
    labels = np.repeat(["A", "B", "C"], frames_per_letter)
    frames = np.tile(np.arange(frames_per_letter), 3)
    order = rng.permutation(len(labels))  # the file's rows in any order
    landmarks = np.zeros((len(labels), 21, 3), np.float32)
    landmarks[:, 0, 0] = frames / 100  # the wrist's x tells each row's moment in its take
    landmarks[:, 1:, 1] = 0.5
    np.savez(tmp_path / "letters.npz", landmarks=landmarks[order], label=labels[order], frame=frames[order])

    sets = asl_letter_sets(tmp_path / "letters.npz")
    assert set(sets) == set(SPLITS)
    assert sum(len(v) for v in sets.values()) == len(labels)
    for letter in "ABC":
        moments = {
            split: sorted(
                round(float(s.landmarks[0, 1, 0, 0]) * 100) for s in sets[split] if s.label == letter
            )
            for split in SPLITS
        }
        assert sum(map(len, moments.values())) == frames_per_letter
        # 10 blocks of 4 frames: dev is block 4, test blocks 2 and 7; each held-out block is whole
        assert moments["dev"] == list(range(16, 20))
        assert moments["test"] == [*range(8, 12), *range(28, 32)]
    sequence = sets["train"][0]
    assert sequence.present.tolist() == [[False, True]] and len(sequence) == 1  # a left hand
    assert sequence.aspect == 16 / 9
