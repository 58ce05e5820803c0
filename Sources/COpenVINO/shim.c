#include "COpenVINO.h"

// The variadic compile calls take their properties as trailing key/value arguments; expand a
// pair array into them (at most 8 pairs).
#define REFV_EXPAND(CALL, ...)                                                                             \
    switch (count) {                                                                                       \
    case 0: return CALL(__VA_ARGS__, 0, compiled);                                                        \
    case 1: return CALL(__VA_ARGS__, 2, compiled, p[0], p[1]);                                            \
    case 2: return CALL(__VA_ARGS__, 4, compiled, p[0], p[1], p[2], p[3]);                                \
    case 3: return CALL(__VA_ARGS__, 6, compiled, p[0], p[1], p[2], p[3], p[4], p[5]);                    \
    case 4: return CALL(__VA_ARGS__, 8, compiled, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);        \
    case 5: return CALL(__VA_ARGS__, 10, compiled, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8],  \
                        p[9]);                                                                             \
    case 6: return CALL(__VA_ARGS__, 12, compiled, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8],  \
                        p[9], p[10], p[11]);                                                               \
    case 7: return CALL(__VA_ARGS__, 14, compiled, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8],  \
                        p[9], p[10], p[11], p[12], p[13]);                                                 \
    case 8: return CALL(__VA_ARGS__, 16, compiled, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8],  \
                        p[9], p[10], p[11], p[12], p[13], p[14], p[15]);                                   \
    default: return INVALID_C_PARAM;                                                                       \
    }

ov_status_e refv_ov_compile(const ov_core_t *core, const ov_model_t *model, const char *device,
                            const char *const *p, size_t count, ov_compiled_model_t **compiled) {
    REFV_EXPAND(ov_core_compile_model, core, model, device)
}

ov_status_e refv_ov_compile_file(const ov_core_t *core, const char *path, const char *device,
                                 const char *const *p, size_t count, ov_compiled_model_t **compiled) {
    REFV_EXPAND(ov_core_compile_model_from_file, core, path, device)
}
