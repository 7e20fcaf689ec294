#include <math.h>

#include "train/train.h"

enum nncw_status nncw_loss_cross_entropy(const struct nncw_tensor *logits, const int32_t *labels,
                                         float *loss, struct nncw_tensor *dlogits)
{
    if (logits->ndim != 2 || logits->dtype != NNCW_DTYPE_F32)
        return NNCW_FAIL(NNCW_ERR_SHAPE, "cross-entropy: logits must be [N, classes] float32");
    int64_t n = logits->shape[0], k = logits->shape[1];
    if (dlogits && !nncw_tensor_same_shape(dlogits, logits))
        return NNCW_FAIL(NNCW_ERR_SHAPE, "cross-entropy: gradient buffer shape differs");
    const float *x = nncw_tensor_f32(logits);
    float *dx = dlogits ? nncw_tensor_f32(dlogits) : NULL;
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG,
                             "cross-entropy: sample %lld has label %d, the model has %lld classes",
                             (long long)i, labels[i], (long long)k);
        const float *row = x + i * k;
        float m = row[0];
        for (int64_t j = 1; j < k; j++)
            m = row[j] > m ? row[j] : m;
        double sum = 0;
        for (int64_t j = 0; j < k; j++)
            sum += exp((double)row[j] - m);
        double lse = m + log(sum);
        total += lse - row[labels[i]];
        if (dx)
            for (int64_t j = 0; j < k; j++)
                dx[i * k + j] = (float)((exp((double)row[j] - lse) - (j == labels[i])) / (double)n);
    }
    *loss = (float)(total / (double)(n ? n : 1));
    return NNCW_OK;
}

int nncw_count_correct(const struct nncw_tensor *logits, const int32_t *labels)
{
    int64_t n = logits->shape[0], k = logits->shape[1];
    const float *x = nncw_tensor_f32(logits);
    int correct = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (x[i * k + j] > x[i * k + best])
                best = j;
        correct += best == labels[i];
    }
    return correct;
}
