"""Writes the BlazePose landmark model without the outputs refvision never reads.

pose_landmark_full.tflite also computes a 256x256 segmentation mask and world landmarks; dropping
them from the graph removes their decoder layers (measured: 17.9 -> 11.8 ms per inference on 2 cores).
The kept outputs are bit-for-bit the same tensors. Run by scripts/bootstrap with the pinned openvino
wheel's Python API; refvision then loads the IR through the C API.

usage: prune-landmark-model.py SOURCE.tflite OUT.xml
"""
import sys

import openvino as ov

KEEP = {(1, 195), (1, 1), (1, 64, 64, 39)}  # landmarks, pose presence, heatmap

src, out = sys.argv[1], sys.argv[2]
model = ov.Core().read_model(src)
keep = [o for o in model.outputs if tuple(o.get_partial_shape().to_shape()) in KEEP]
if len(keep) != len(KEEP):
    sys.exit(f"prune: expected outputs {sorted(KEEP)}, found {[str(o.get_partial_shape()) for o in model.outputs]}")
pruned = ov.Model(keep, model.get_parameters(), "pose_landmark_full_pruned")
ov.save_model(pruned, out, compress_to_fp16=False)
