"""MediaPipe's hand landmarker, imported without the rest of MediaPipe.

``import mediapipe`` (and so any ``from mediapipe.tasks.python import ...``) imports every task of
the Tasks API: audio, text, each vision task, and for its drawing helpers matplotlib's pyplot. On 2
cores that is 1.0 s of a 1.4 s ``seqrec gestures photo.jpg``; the hand landmarker needs a few of its
modules and its native library, 0.06 s. So :func:`hand_landmarker_api` imports those modules below
bare stand-ins for their parent packages (a package's ``__init__`` runs only when the package is
imported), then takes the stand-ins and the modules out of ``sys.modules`` again: the classes it
returns keep their modules alive, and a later ``import mediapipe``, the user's own, imports
MediaPipe afresh and whole, as if this had never run. Where the user has already imported MediaPipe,
or where a MediaPipe release moved these modules, the whole package is imported as usual.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path

_PACKAGES = ("mediapipe", "mediapipe.tasks", "mediapipe.tasks.python", "mediapipe.tasks.python.vision")
_MODULES = {
    "hand_landmarker": "mediapipe.tasks.python.vision.hand_landmarker",
    "base_options": "mediapipe.tasks.python.core.base_options",
    "image": "mediapipe.tasks.python.vision.core.image",
    "running_mode": "mediapipe.tasks.python.vision.core.vision_task_running_mode",
    "c_bindings": "mediapipe.tasks.python.core.mediapipe_c_bindings",
}
_lock = threading.Lock()


@dataclass(frozen=True)
class HandLandmarkerApi:
    """The few names of MediaPipe's Tasks API that seqrec's landmarker uses."""

    HandLandmarker: type
    HandLandmarkerOptions: type
    BaseOptions: type
    RunningMode: type
    Image: type
    ImageFormat: type


@functools.cache
def hand_landmarker_api() -> HandLandmarkerApi:
    """MediaPipe's hand landmarker classes: alone where that can be done, else from the whole
    package. Raises ImportError when MediaPipe is not installed."""
    with _lock:
        if "mediapipe" not in sys.modules:
            try:
                return _api(_modules_alone())
            except (ImportError, AttributeError):
                pass  # another layout of MediaPipe: the usual way below says what is missing
    from mediapipe.tasks.python import BaseOptions, vision
    from mediapipe.tasks.python.vision.core import image

    return HandLandmarkerApi(
        HandLandmarker=vision.HandLandmarker,
        HandLandmarkerOptions=vision.HandLandmarkerOptions,
        BaseOptions=BaseOptions,
        RunningMode=vision.RunningMode,
        Image=image.Image,
        ImageFormat=image.ImageFormat,
    )


def _api(modules: dict[str, types.ModuleType]) -> HandLandmarkerApi:
    return HandLandmarkerApi(
        HandLandmarker=modules["hand_landmarker"].HandLandmarker,
        HandLandmarkerOptions=modules["hand_landmarker"].HandLandmarkerOptions,
        BaseOptions=modules["base_options"].BaseOptions,
        RunningMode=modules["running_mode"].VisionTaskRunningMode,
        Image=modules["image"].Image,
        ImageFormat=modules["image"].ImageFormat,
    )


def _modules_alone() -> dict[str, types.ModuleType]:
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("mediapipe is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    before = set(sys.modules)
    try:
        for name in _PACKAGES:
            sys.modules[name] = _stand_in(name, root.joinpath(*name.split(".")[1:]))
        modules = {key: importlib.import_module(name) for key, name in _MODULES.items()}
        # The native library is found (importlib.resources) through the package mediapipe.tasks.c,
        # which would import the whole of MediaPipe later: found now, and kept, as MediaPipe does.
        modules["c_bindings"].load_raw_library()
        return modules
    finally:
        for name in set(sys.modules) - before:
            if name == "mediapipe" or name.startswith("mediapipe."):
                del sys.modules[name]


def _stand_in(name: str, folder: Path) -> types.ModuleType:
    """An empty package ``name`` whose submodules are found in ``folder``."""
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    package = importlib.util.module_from_spec(spec)
    package.__path__ = [str(folder)]
    return package
