#include "COpenVINO.h"
#include <stdio.h>

ov_status_e refv_ov_compile(const ov_core_t *core, const ov_model_t *model, const char *device,
                            int threads, ov_compiled_model_t **compiled) {
    if (threads > 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", threads);
        return ov_core_compile_model(core, model, device, 8, compiled,
                                     "INFERENCE_PRECISION_HINT", "f32",
                                     "PERFORMANCE_HINT", "LATENCY",
                                     "NUM_STREAMS", "1",
                                     "INFERENCE_NUM_THREADS", n);
    }
    return ov_core_compile_model(core, model, device, 6, compiled,
                                 "INFERENCE_PRECISION_HINT", "f32",
                                 "PERFORMANCE_HINT", "LATENCY",
                                 "NUM_STREAMS", "1");
}
