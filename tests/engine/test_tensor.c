#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "nncwt.h"
#include "tensor/tensor.h"

START_TEST(test_tensor_init_is_zeroed_and_contiguous)
{
    struct nncw_tensor t;
    int64_t shape[] = {2, 3, 4};
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, 3, shape), NNCW_OK);
    ck_assert_int_eq(nncw_tensor_numel(&t), 24);
    ck_assert_int_eq(t.strides[0], 12);
    ck_assert_int_eq(t.strides[2], 1);
    ck_assert(nncw_tensor_is_contiguous(&t));
    for (int i = 0; i < 24; i++)
        ck_assert_float_eq(nncw_tensor_f32(&t)[i], 0.0f);
    ck_assert_int_eq(t.storage->refcount, 1);
    nncw_tensor_fini(&t);
}
END_TEST

START_TEST(test_tensor_copy_is_deep)
{
    struct nncw_tensor a, b;
    int64_t shape[] = {5};
    nncwt_tensor_from(&a, 1, shape, (float[]){1, 2, 3, 4, 5});
    nncwt_assert_status(nncw_tensor_init_copy(&b, &a), NNCW_OK);
    nncw_tensor_f32(&a)[0] = 9;
    ck_assert_float_eq(nncw_tensor_f32(&b)[0], 1);
    ck_assert_float_eq(nncw_tensor_f32(&b)[4], 5);
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

START_TEST(test_tensor_shape_str)
{
    struct nncw_tensor t;
    char buf[64];
    nncw_tensor_init_borrowed(&t, NNCW_DTYPE_F32, 4, (int64_t[]){64, 1, 28, 28}, NULL);
    ck_assert_str_eq(nncw_tensor_shape_str(&t, buf, sizeof buf), "[64, 1, 28, 28]");
}
END_TEST

START_TEST(test_tensor_errors_name_the_problem)
{
    struct nncw_tensor t;
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, 2, (int64_t[]){3, -1}),
                        NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "shape"));
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, 9, (int64_t[9]){0}), NNCW_ERR_SHAPE);
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, 2, (int64_t[]){INT64_MAX / 2, 4}),
                        NNCW_ERR_SHAPE);
    struct nncw_tensor a, b;
    nncwt_tensor_from(&a, 1, (int64_t[]){2}, (float[]){1, 2});
    nncwt_tensor_from(&b, 1, (int64_t[]){3}, (float[]){1, 2, 3});
    nncwt_assert_status(nncw_tensor_copy(&a, &b), NNCW_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "[3] into [2]"));
    nncw_tensor_fini(&a);
    nncw_tensor_fini(&b);
}
END_TEST

START_TEST(test_tensor_out_of_memory_is_reported)
{
    struct nncw_tensor t;
    nncw_alloc_fail_after(1);
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, 1, (int64_t[]){4}), NNCW_ERR_NOMEM);
    nncw_alloc_fail_after(2);
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, 1, (int64_t[]){4}), NNCW_ERR_NOMEM);
    nncw_alloc_fail_after(0);
    nncwt_assert_status(nncw_tensor_init(&t, NNCW_DTYPE_F32, 1, (int64_t[]){4}), NNCW_OK);
    nncw_tensor_fini(&t);
}
END_TEST

START_TEST(test_rng_is_reproducible)
{
    struct nncw_rng a, b;
    nncw_rng_seed(&a, 42);
    nncw_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(nncw_rng_u32(&a), nncw_rng_u32(&b));
    nncw_rng_seed(&b, 43);
    ck_assert_uint_ne(nncw_rng_u32(&a), nncw_rng_u32(&b));
    double sum = 0, sq = 0;
    for (int i = 0; i < 20000; i++) {
        float g = nncw_rng_normal(&a);
        sum += g;
        sq += (double)g * g;
    }
    ck_assert_double_lt(fabs(sum / 20000), 0.05);
    ck_assert_double_lt(fabs(sq / 20000 - 1.0), 0.05);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_lt(nncw_rng_below(&a, 7), 7);
}
END_TEST

static Suite *tensor_suite(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = tcase_create("basics");
    tcase_add_test(tc, test_tensor_init_is_zeroed_and_contiguous);
    tcase_add_test(tc, test_tensor_copy_is_deep);
    tcase_add_test(tc, test_tensor_shape_str);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_tensor_errors_name_the_problem);
    tcase_add_test(tc, test_tensor_out_of_memory_is_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("rng");
    tcase_add_test(tc, test_rng_is_reproducible);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(tensor_suite());
}
