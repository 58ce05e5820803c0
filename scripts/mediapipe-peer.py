"""The Python reference for `make bench`: the official MediaPipe 0.10.21 Pose solution on a video.

Decodes with OpenCV, runs mp.solutions.pose.Pose(model_complexity=1) (the full landmark model, video
mode), draws the landmarks, writes the video with OpenCV — the same job as `refvision pose --overlay`.
Prints one JSON line with frame count, seconds and frames with a person.

usage: mediapipe-peer.py IN.mp4 OUT.mp4
"""
import json
import sys
import time

import cv2
import mediapipe as mp

start = time.perf_counter()
src, dst = sys.argv[1], sys.argv[2]
cap = cv2.VideoCapture(src)
if not cap.isOpened():
    sys.exit(f"cannot open {src}")
fps = cap.get(cv2.CAP_PROP_FPS) or 30
w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
out = cv2.VideoWriter(dst, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
frames = found = 0
with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        result = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks:
            found += 1
            mp.solutions.drawing_utils.draw_landmarks(bgr, result.pose_landmarks, mp.solutions.pose.POSE_CONNECTIONS)
        out.write(bgr)
        frames += 1
out.release()
print(json.dumps({"frames": frames, "with_person": found, "seconds": time.perf_counter() - start}))
