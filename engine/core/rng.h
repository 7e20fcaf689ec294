/*
 * A small seeded random generator (PCG32) so runs are reproducible: same seed, same numbers.
 *
 *     struct nncw_rng r;
 *     nncw_rng_seed(&r, 1);
 *     float u = nncw_rng_uniform(&r);        // [0, 1)
 *     float g = nncw_rng_normal(&r);         // N(0, 1)
 */
#pragma once

#include <stdint.h>

struct nncw_rng {
    uint64_t state;
    uint64_t inc;
};

void nncw_rng_seed(struct nncw_rng *r, uint64_t seed);
uint32_t nncw_rng_u32(struct nncw_rng *r);
/* uniform integer in [0, n); n > 0 */
uint32_t nncw_rng_below(struct nncw_rng *r, uint32_t n);
/* uniform in [0, 1) */
float nncw_rng_uniform(struct nncw_rng *r);
/* standard normal */
float nncw_rng_normal(struct nncw_rng *r);
