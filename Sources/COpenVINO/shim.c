#include "COpenVINO.h"

ov_status_e refv_ov_compile(const ov_core_t *core, const ov_model_t *model, const char *device,
                            const char *const *p, size_t count, ov_compiled_model_t **compiled) {
    switch (count) {
    case 0: return ov_core_compile_model(core, model, device, 0, compiled);
    case 1: return ov_core_compile_model(core, model, device, 2, compiled, p[0], p[1]);
    case 2: return ov_core_compile_model(core, model, device, 4, compiled, p[0], p[1], p[2], p[3]);
    case 3: return ov_core_compile_model(core, model, device, 6, compiled, p[0], p[1], p[2], p[3], p[4], p[5]);
    case 4: return ov_core_compile_model(core, model, device, 8, compiled, p[0], p[1], p[2], p[3], p[4], p[5],
                                         p[6], p[7]);
    case 5: return ov_core_compile_model(core, model, device, 10, compiled, p[0], p[1], p[2], p[3], p[4], p[5],
                                         p[6], p[7], p[8], p[9]);
    case 6: return ov_core_compile_model(core, model, device, 12, compiled, p[0], p[1], p[2], p[3], p[4], p[5],
                                         p[6], p[7], p[8], p[9], p[10], p[11]);
    case 7: return ov_core_compile_model(core, model, device, 14, compiled, p[0], p[1], p[2], p[3], p[4], p[5],
                                         p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13]);
    case 8: return ov_core_compile_model(core, model, device, 16, compiled, p[0], p[1], p[2], p[3], p[4], p[5],
                                         p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
    default: return INVALID_C_PARAM;
    }
}
