"""Hand gestures and signs: one modality, from MediaPipe hand landmarks.

- ``stages``: the stages photos, videos and landmark files go through (``gesture_pipeline``)
- ``recognizer``: ``GestureRecognizer``, load once and recognise many
- ``model``: ``GestureModel``, a hands bundle loaded for inference (heads, labels, forward pass)
- ``stream``: windows of frames and smoothed labels, for videos and cameras
- ``media``, ``live``, ``overlay``: files, cameras, and what the live window draws

The constants below are all the command line needs to start: importing this package loads
neither torch nor MediaPipe.
"""

DEFAULT_GESTURE_MODEL = "hand-gestures"
# What every head says when no hand is in view: a label, never an error.
NO_LABEL = "none"
