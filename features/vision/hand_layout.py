"""The hand-landmark array layout: what ``HandLandmarker`` fills and ``LandmarkFeatures`` reads.

One frame is ``[N_HANDS, N_HAND_LANDMARKS, N_COORDS]`` float32: slot 0 holds the person's right
hand, slot 1 the left; each hand is MediaPipe's 21 points (0 = wrist, 1-4 thumb, 5-8 index,
9-12 middle, 13-16 ring, 17-20 pinky, base to tip) as x, y, z. A sequence adds a leading time axis.
"""

N_HANDS = 2
HAND_SIDES = ("right", "left")  # the person's hand held in each slot
N_HAND_LANDMARKS = 21
N_COORDS = 3  # x, y, z
WRIST = 0
MIDDLE_MCP = 9  # the middle finger's knuckle: wrist to here is the palm size
# Landmark indices of each finger, base to tip: thumb (1-4), index, middle, ring, pinky (17-20).
FINGERS = tuple(tuple(range(first, first + 4)) for first in range(WRIST + 1, N_HAND_LANDMARKS, 4))
