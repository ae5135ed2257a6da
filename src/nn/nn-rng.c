#include "nn-rng.h"

#include <math.h>

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void
nn_rng_seed (NnRng *rng, uint64_t seed)
{
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&seed);
}

uint64_t
nn_rng_next (NnRng *rng)
{
  uint64_t *s = rng->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

double
nn_rng_uniform (NnRng *rng)
{
  return (double) (nn_rng_next (rng) >> 11) * 0x1.0p-53;
}

double
nn_rng_normal (NnRng *rng)
{
  double u1 = 1.0 - nn_rng_uniform (rng);     /* (0, 1]: log is finite */
  double u2 = nn_rng_uniform (rng);
  return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

uint64_t
nn_rng_below (NnRng *rng, uint64_t n)
{
  /* Rejecting the 2^64 mod n smallest values keeps the result unbiased. */
  uint64_t threshold = -n % n;
  for (;;)
    {
      uint64_t x = nn_rng_next (rng);
      if (x >= threshold)
        return x % n;
    }
}
