#ifndef REFVISION_COPENVINO_H
#define REFVISION_COPENVINO_H

#include <openvino/c/openvino.h>

/// Compiles `model` for `device` with f32 inference precision forced (CPUs with AVX512-BF16 otherwise
/// default to bf16, which moves keypoints by many pixels), `threads` inference threads (0 = OpenVINO's
/// default) and the latency performance hint. Wraps the variadic ov_core_compile_model.
ov_status_e refv_ov_compile(const ov_core_t *core, const ov_model_t *model, const char *device,
                            int threads, ov_compiled_model_t **compiled);

#endif
