#!/usr/bin/env bash
# Check the light install: a plain `pip install .` (no extras, not editable) must give a runtime without
# torch, librosa, scipy or numba that still transcribes, labels gestures and runs batch jobs with the
# shipped ONNX graphs, and whose torch-only commands (train, export, explain) say so in one line and exit 2.
# The dev venv (`make venv`) has every extra, so nothing else would notice a runtime import of torch.
#
# Environment:
#   LIGHT_VENV        where the light venv goes (default /tmp/seqrec-light)
#   REUSE_LIGHT_VENV  1: reuse that venv if present and keep it afterwards (default: made anew, removed)
#   FULL_VENV         the dev venv whose size is printed beside the light one (default .venv, if present)
#   PYTHON            the interpreter that makes the venv (default python3)
#   TORCH_PIN         torch's CPU wheel: the pin if anything ever pulled torch in (default torch==2.13.0)
set -euo pipefail
cd "$(dirname "$0")/.."

LIGHT_VENV=${LIGHT_VENV:-/tmp/seqrec-light}
REUSE_LIGHT_VENV=${REUSE_LIGHT_VENV:-0}
PYTHON=${PYTHON:-python3}
TORCH_PIN=${TORCH_PIN:-torch==2.13.0}
if [ -z "${FULL_VENV+set}" ] && [ -d .venv ]; then
    FULL_VENV=.venv
fi
FULL_VENV=${FULL_VENV:-}
HEAVY=(torch librosa scipy numba)

fail() {
    echo "light-check: FAIL: $*" >&2
    exit 1
}
passed=0
pass() {
    passed=$((passed + 1))
    echo "light-check: ok: $*"
}

# Only ever delete a folder that is a venv (or nothing): LIGHT_VENV may be set to anything.
remove_venv() {
    if [ -e "$LIGHT_VENV" ]; then
        [ -f "$LIGHT_VENV/pyvenv.cfg" ] || fail "$LIGHT_VENV exists and is not a venv; not removing it"
        rm -rf "$LIGHT_VENV"
    fi
}

work=$(mktemp -d)
cleanup() {
    rm -rf "$work"
    if [ "$REUSE_LIGHT_VENV" != 1 ] && [ -f "$LIGHT_VENV/pyvenv.cfg" ]; then
        rm -rf "$LIGHT_VENV"
    fi
}
trap cleanup EXIT

if [ "$REUSE_LIGHT_VENV" = 1 ] && [ -x "$LIGHT_VENV/bin/python" ]; then
    echo "light-check: reusing $LIGHT_VENV"
else
    remove_venv
    "$PYTHON" -m venv "$LIGHT_VENV"
fi
PY=$LIGHT_VENV/bin/python
SEQREC=$LIGHT_VENV/bin/seqrec

# Nothing in the runtime should want torch; if a dependency ever did, pip would take PyPI's multi-GB
# CUDA build: pin it to the CPU wheel, and the import checks below then name the culprit.
echo "$TORCH_PIN" >"$work/constraints.txt"
# setuptools stages a wheel's files in build/lib and build/bdist.* and never prunes them: a module
# deleted from the tree would still be installed. build/__editable__* is the dev venv's (strict
# editable): it stays.
rm -rf build/lib build/bdist.*
echo "light-check: pip install . into $LIGHT_VENV"
start=$(date +%s)
# The machine's local indexes (/opt/pypi, /opt/pypi-more) warn about every package they lack.
if ! "$PY" -m pip install --quiet --disable-pip-version-check --constraint "$work/constraints.txt" . 2>&1 |
    { grep -v -e "^WARNING: Location 'file:///opt/pypi" || true; }; then
    fail "pip install . failed"
fi
install_seconds=$(($(date +%s) - start))
rm -rf build/lib build/bdist.*
pass "pip install . took ${install_seconds} s"

# 1. The heavy modules are not installed at all.
"$PY" - "${HEAVY[@]}" <<'EOF' || fail "the light install has heavy modules (above)"
import importlib.util
import sys

present = [name for name in sys.argv[1:] if importlib.util.find_spec(name) is not None]
for name in present:
    print(f"light-check: {name} is importable in the light install", file=sys.stderr)
sys.exit(1 if present else 0)
EOF
pass "none of ${HEAVY[*]} is installed"

# Every seqrec run below records its attempts at importing a heavy module, with the stack that made
# them: a hook that only this venv has (a .pth file runs it at start-up, in batch workers too) and only
# when SEQREC_LIGHT_CHECK_IMPORTS names a log. An attempt on a runtime path is a bug even where the
# ImportError is caught; importlib.util.find_spec probes (require_torch's) are not attempts.
# (PYTHONPROFILEIMPORTTIME would not do: seqrec silences descriptor 2 while a command runs.)
site_packages=$("$PY" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
cat >"$site_packages/_seqrec_light_check.py" <<'EOF'
"""scripts/check_light_install.sh's watch on heavy imports (SEQREC_LIGHT_CHECK_IMPORTS: the log)."""

import json
import os
import sys
import traceback

HEAVY = {"torch", "librosa", "scipy", "numba"}
LOG = os.environ.get("SEQREC_LIGHT_CHECK_IMPORTS")


class _Watch:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HEAVY:
            stack = traceback.extract_stack()[:-1]
            probe = any(f.name == "find_spec" and f.filename.endswith("util.py") for f in stack)
            frames = [f"{f.filename}:{f.lineno} {f.name}" for f in stack if "<frozen" not in f.filename]
            entry = {"module": name, "probe": probe, "argv": sys.argv, "stack": frames}
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
        return None  # the ordinary finders go on (and find nothing)


if LOG:
    sys.meta_path.insert(0, _Watch())
EOF
echo "import _seqrec_light_check" >"$site_packages/_seqrec_light_check.pth"

check_imports() { # LOG WHAT
    [ -f "$1" ] || return 0
    "$PY" - "$1" "$2" <<'EOF'
import json
import sys

log, what = sys.argv[1], sys.argv[2]
bad = [entry for entry in map(json.loads, open(log, encoding="utf-8")) if not entry["probe"]]
for entry in bad:
    print(f"light-check: {what} imports {entry['module']} (process {entry['argv']}):", file=sys.stderr)
    for frame in entry["stack"]:
        print(f"    {frame}", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# Runs a seqrec command with its imports watched: stdout to $work/NAME.out, stderr to $work/NAME.err.
run_traced() { # NAME ARGS...
    local name=$1
    shift
    local rc=0
    SEQREC_LIGHT_CHECK_IMPORTS=$work/$name.imports "$SEQREC" "$@" >"$work/$name.out" 2>"$work/$name.err" ||
        rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$work/$name.err" >&2
        check_imports "$work/$name.imports" "seqrec $1" || true # the stack often says why
        fail "seqrec $* exited $rc"
    fi
    check_imports "$work/$name.imports" "seqrec $1" || fail "seqrec $* tried a heavy import (above)"
}

# A row per audio file in FOLDER, each with a text and no error; given a summary file, none failed.
check_transcripts() { # WHAT OUT FOLDER [SUMMARY]
    "$PY" - "$@" <<'EOF'
import json
import sys
from pathlib import Path

from seqrec.features import AUDIO_EXTENSIONS

what, out, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
want = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
rows = [json.loads(line) for line in open(out, encoding="utf-8") if line.strip()]
problems = [f"{r.get('path')}: {r}" for r in rows if "error" in r or not isinstance(r.get("text"), str)]
got = sorted(str(Path(r.get("path", ""))) for r in rows)
if got != want:
    problems.append(f"rows for {got}, audio files {want}")
line = f"{len(rows)} rows: " + "; ".join(repr(r.get("text")) for r in rows)
if len(sys.argv) > 4:
    summary = json.loads(Path(sys.argv[4]).read_text(encoding="utf-8"))
    if summary.get("failed") != 0 or summary.get("succeeded") != len(want):
        problems.append(f"summary: {summary.get('succeeded')} succeeded, {summary.get('failed')} failed")
    line = f"{len(rows)} rows, summary {summary.get('succeeded')} ok {summary.get('failed')} failed"
for p in problems:
    print(f"light-check: {what}: {p}", file=sys.stderr)
print(f"light-check: {what}: {line}")
sys.exit(1 if problems else 0)
EOF
}

# 2. transcribe: one row per audio file, each with a text and no error.
run_traced transcribe transcribe tests/data/samples --format jsonl
check_transcripts transcribe "$work/transcribe.out" tests/data/samples || fail "seqrec transcribe: wrong output (above)"
pass "seqrec transcribe"

# 3. gestures on one photo, with an image model's ONNX graph and MediaPipe's landmarks.
photo=tests/data/hands/sign_digit_5_IMG_1123.JPG
run_traced gestures gestures "$photo" --model sign-digits --format jsonl
"$PY" - "$work/gestures.out" <<'EOF' || fail "seqrec gestures: wrong output (above)"
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
ok = len(rows) == 1 and "error" not in rows[0] and isinstance(rows[0].get("label"), str) and rows[0]["label"]
print(f"light-check: gestures: {rows}", file=sys.stdout if ok else sys.stderr)
sys.exit(0 if ok else 1)
EOF
pass "seqrec gestures"

# 4. batch transcribe with two worker processes: a row per audio file, and a summary with no failure.
run_traced batch batch transcribe --input tests/data/samples --output "$work/batch/results.jsonl" \
    --workers 2 --quiet
check_transcripts batch "$work/batch/results.jsonl" tests/data/samples "$work/batch/results.jsonl.summary.json" ||
    fail "seqrec batch transcribe: wrong output (above)"
pass "seqrec batch transcribe"

# 5. The commands that need torch: exit 2 and one line on stderr that says so.
needs_torch() { # NAME ARGS...
    local name=$1
    shift
    local rc=0
    "$SEQREC" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    [ "$rc" -eq 2 ] || { cat "$work/$name.err" >&2; fail "seqrec $* exited $rc, not 2"; }
    "$PY" - "$work/$name.err" <<'EOF' || fail "seqrec $*: stderr is not one line saying it needs torch"
import sys

lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
ok = len(lines) == 1 and "needs torch" in lines[0]
print(f"light-check: {lines[0] if ok else lines}", file=sys.stdout if ok else sys.stderr)
sys.exit(0 if ok else 1)
EOF
}
needs_torch train train configs/digits-commands.yaml
pass "seqrec train needs torch"
needs_torch export export digits-commands --out "$work/export"
pass "seqrec export needs torch"
needs_torch explain explain tests/data/3_jackson_0.wav --out "$work/explain"
pass "seqrec explain needs torch"

# 6. What the light install saves.
du -sh "$LIGHT_VENV"
light_mib=$(du -sm "$LIGHT_VENV" | cut -f1)
if [ -n "$FULL_VENV" ] && [ -d "$FULL_VENV" ]; then
    du -sh "$FULL_VENV"
    echo "install size: light ${light_mib} MiB, full $(du -sm "$FULL_VENV" | cut -f1) MiB"
else
    echo "install size: light ${light_mib} MiB"
fi
echo "light-check: ${passed} passed, 0 failed"
