#include "core/rng.h"

#include <math.h>

void nncw_rng_seed(struct nncw_rng *r, uint64_t seed)
{
    r->state = 0;
    r->inc = (seed << 1u) | 1u;
    nncw_rng_u32(r);
    r->state += 0x853c49e6748fea9bULL ^ seed;
    nncw_rng_u32(r);
}

uint32_t nncw_rng_u32(struct nncw_rng *r)
{
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

uint32_t nncw_rng_below(struct nncw_rng *r, uint32_t n)
{
    /* rejection sampling keeps the distribution exactly uniform */
    uint32_t threshold = -n % n;
    for (;;) {
        uint32_t x = nncw_rng_u32(r);
        if (x >= threshold)
            return x % n;
    }
}

float nncw_rng_uniform(struct nncw_rng *r)
{
    return (float)(nncw_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float nncw_rng_normal(struct nncw_rng *r)
{
    /* Box-Muller; u1 in (0, 1] so log is finite */
    float u1 = 1.0f - nncw_rng_uniform(r);
    float u2 = nncw_rng_uniform(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}
