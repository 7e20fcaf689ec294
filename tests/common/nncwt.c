#include "nncwt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/rng.h"

static void fail_on_error(void *user, enum nncw_log_level level, const char *msg)
{
    (void)user;
    if (level >= NNCW_LOG_ERROR)
        ck_abort_msg("unexpected engine error: %s", msg);
}

int nncwt_run(Suite *s)
{
    nncw_log_set_handler(fail_on_error, NULL);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void nncwt_tensor_rand(struct nncw_tensor *t, int ndim, const int64_t *shape, float lo, float hi,
                       uint64_t seed)
{
    ck_assert_int_eq(nncw_tensor_init(t, NNCW_DTYPE_F32, ndim, shape), NNCW_OK);
    struct nncw_rng r;
    nncw_rng_seed(&r, seed);
    float *x = nncw_tensor_f32(t);
    for (int64_t i = 0; i < nncw_tensor_numel(t); i++)
        x[i] = lo + (hi - lo) * nncw_rng_uniform(&r);
}

void nncwt_tensor_from(struct nncw_tensor *t, int ndim, const int64_t *shape, const float *v)
{
    ck_assert_int_eq(nncw_tensor_init(t, NNCW_DTYPE_F32, ndim, shape), NNCW_OK);
    float *x = nncw_tensor_f32(t);
    for (int64_t i = 0; i < nncw_tensor_numel(t); i++)
        x[i] = v[i];
}

void nncwt_assert_tensor_near_at(const struct nncw_tensor *a, const struct nncw_tensor *b,
                                 double atol, double rtol, const char *file, int line)
{
    char sa[96], sb[96];
    if (!nncw_tensor_same_shape(a, b))
        ck_abort_msg("%s:%d: shapes differ: %s vs %s", file, line,
                     nncw_tensor_shape_str(a, sa, sizeof sa),
                     nncw_tensor_shape_str(b, sb, sizeof sb));
    const float *x = nncw_tensor_f32(a), *y = nncw_tensor_f32(b);
    for (int64_t i = 0; i < nncw_tensor_numel(a); i++) {
        double d = fabs((double)x[i] - y[i]);
        if (!(d <= atol + rtol * fabs((double)y[i])))
            ck_abort_msg("%s:%d: element %lld: %.8g vs expected %.8g", file, line, (long long)i,
                         x[i], y[i]);
    }
}

void nncwt_assert_status_at(enum nncw_status s, enum nncw_status expected, const char *file,
                            int line)
{
    if (s != expected)
        ck_abort_msg("%s:%d: status '%s', expected '%s' (last error: %s)", file, line,
                     nncw_status_str(s), nncw_status_str(expected), nncw_last_error());
}
