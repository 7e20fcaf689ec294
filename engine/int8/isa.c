/*
** Choosing the integer kernel at run time: the build is not tied to the machine (-march), so
** the AVX2 and AVX-512 VNNI kernels are compiled with target pragmas and picked here from what
** the CPU (and the OS, which must save the wide registers) supports. NNCW_INT8_ISA forces one,
** which is how tests and benchmarks compare the paths on one machine.
*/
#include "int8/int8_exec.h"

#include <stdlib.h>
#include <string.h>

#include "int8/igemm.h"

static const char *const isa_names[] = {
    [NNCW_INT8_ISA_AUTO] = "auto",
    [NNCW_INT8_ISA_C] = "c",
    [NNCW_INT8_ISA_AVX2] = "avx2",
    [NNCW_INT8_ISA_AVX512_VNNI] = "avx512_vnni",
};
_Static_assert(sizeof isa_names / sizeof isa_names[0] == NNCW_INT8_ISA_COUNT,
               "ISA names out of date");

const char *nncw_int8_isa_name(enum nncw_int8_isa isa)
{
    return (unsigned)isa < NNCW_INT8_ISA_COUNT ? isa_names[isa] : "?";
}

bool nncw_int8_isa_supported(enum nncw_int8_isa isa)
{
    switch (isa) {
    case NNCW_INT8_ISA_AUTO:
    case NNCW_INT8_ISA_C:
        return true;
#if defined(__x86_64__)
    case NNCW_INT8_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case NNCW_INT8_ISA_AVX512_VNNI:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
    default:
        return false;
    }
}

static enum nncw_int8_isa best_supported(void)
{
    if (nncw_int8_isa_supported(NNCW_INT8_ISA_AVX512_VNNI))
        return NNCW_INT8_ISA_AVX512_VNNI;
    if (nncw_int8_isa_supported(NNCW_INT8_ISA_AVX2))
        return NNCW_INT8_ISA_AVX2;
    return NNCW_INT8_ISA_C;
}

enum nncw_status nncw_int8_isa_resolve(enum nncw_int8_isa requested, enum nncw_int8_isa *out)
{
    if ((unsigned)requested >= NNCW_INT8_ISA_COUNT)
        return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "int8: unknown kernel %d", (int)requested);
    if (requested != NNCW_INT8_ISA_AUTO) {
        if (!nncw_int8_isa_supported(requested))
            return NNCW_FAIL(NNCW_ERR_UNSUPPORTED, "int8: this CPU cannot run the %s kernel",
                             nncw_int8_isa_name(requested));
        *out = requested;
        return NNCW_OK;
    }
    const char *env = getenv("NNCW_INT8_ISA");
    if (!env || !*env || !strcmp(env, "auto")) {
        *out = best_supported();
        return NNCW_OK;
    }
    for (int i = NNCW_INT8_ISA_C; i < NNCW_INT8_ISA_COUNT; i++)
        if (!strcmp(env, isa_names[i])) {
            if (!nncw_int8_isa_supported((enum nncw_int8_isa)i))
                return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                                 "int8: NNCW_INT8_ISA=%s, but this CPU cannot run that kernel",
                                 env);
            *out = (enum nncw_int8_isa)i;
            return NNCW_OK;
        }
    return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                     "int8: NNCW_INT8_ISA=%s (expected auto, c, avx2 or avx512_vnni)", env);
}

nncw_igemm_chunk_fn nncw_igemm_kernel(enum nncw_int8_isa isa)
{
    switch (isa) {
    case NNCW_INT8_ISA_C:
        return nncw_kernel_igemm_u8s8_c;
#if defined(__x86_64__)
    case NNCW_INT8_ISA_AVX2:
        return nncw_kernel_igemm_u8s8_avx2;
    case NNCW_INT8_ISA_AVX512_VNNI:
        return nncw_kernel_igemm_u8s8_vnni;
#endif
    default:
        return NULL;
    }
}
