/* nn-rng.h — a small seeded random number generator (xoshiro256**, seeded by
 * splitmix64). The same seed gives the same numbers on every machine. */
#pragma once

#include <stdint.h>

typedef struct {
  uint64_t s[4];
} NnRng;

void nn_rng_seed (NnRng *rng, uint64_t seed);
uint64_t nn_rng_next (NnRng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double nn_rng_uniform (NnRng *rng);
/* Standard normal, by Box-Muller (one value per call). */
double nn_rng_normal (NnRng *rng);
/* Uniform integer in [0, n). */
uint64_t nn_rng_below (NnRng *rng, uint64_t n);
