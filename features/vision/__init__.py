"""Pictures to arrays: ``frames`` and ``frame_readers`` (photos, videos, cameras),
``landmarker`` (MediaPipe's HandLandmarker), ``hand_layout`` (the fixed two-hand layout),
``landmark_features`` and ``landmark_augment``."""
