#ifndef REFVISION_COPENVINO_H
#define REFVISION_COPENVINO_H

#include <stddef.h>
#include <openvino/c/openvino.h>

/// Compiles `model` for `device` with `count` properties given as key/value string pairs
/// (`pairs[2i]` = key, `pairs[2i+1]` = value; at most 8 pairs). Wraps the variadic
/// ov_core_compile_model, which Swift cannot call. Returns INVALID_C_PARAM for more than 8 pairs.
ov_status_e refv_ov_compile(const ov_core_t *core, const ov_model_t *model, const char *device,
                            const char *const *pairs, size_t count, ov_compiled_model_t **compiled);

/// The same for the model file at `path` (ov_core_compile_model_from_file): with a cache directory
/// set, a cached network is imported without reading the model at all.
ov_status_e refv_ov_compile_file(const ov_core_t *core, const char *path, const char *device,
                                 const char *const *pairs, size_t count, ov_compiled_model_t **compiled);

#endif
