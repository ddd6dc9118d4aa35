#!/usr/bin/python3
"""The random strategy written from its description in src/masks/random_masks.h alone, in plain
Python (no numpy): mt19937_64 and std::seed_seq as the C++ standard specifies them, exact counts,
bitmask rejection, partial Fisher-Yates. test_random.cpp compares its output with headsweep's, which
shows that the description is complete and the masks are the same on every machine.

usage: random_reference.py L H SPARSITY SAMPLES SEED MIN_HEADS_PER_LAYER
prints one mask per line as L*H digits (1 = kept), layer-major, then nothing else.
"""
import math
import sys

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1


class MT19937_64:
    """std::mt19937_64 ([rand.eng.mers] with the parameters of [rand.predef])."""
    n, m, r = 312, 156, 31
    a = 0xB5026F5AA96619E9
    u, d = 29, 0x5555555555555555
    s, b = 17, 0x71D67FFFEDA60000
    t, c = 37, 0xFFF7EEE000000000
    l = 43
    f = 6364136223846793005

    def __init__(self, state):
        self.mt = state
        self.i = self.n

    @classmethod
    def from_seed_seq(cls, seq):
        # seed(Sseq&): k = 2 words of 32 bits per state word; generate n * 2 words.
        words = seed_seq_generate(seq, cls.n * 2)
        state = [(words[2 * i] | (words[2 * i + 1] << 32)) & MASK64 for i in range(cls.n)]
        # If the 31 high bits of state[0] and all other words are zero, state[0] becomes 2^63.
        if (state[0] >> cls.r) == 0 and all(x == 0 for x in state[1:]):
            state[0] = 1 << 63
        return cls(state)

    @classmethod
    def from_int(cls, seed):
        state = [seed & MASK64]
        for i in range(1, cls.n):
            prev = state[-1]
            state.append((cls.f * (prev ^ (prev >> 62)) + i) & MASK64)
        return cls(state)

    def __call__(self):
        if self.i >= self.n:
            upper = (MASK64 << self.r) & MASK64
            lower = (1 << self.r) - 1
            for k in range(self.n):
                y = (self.mt[k] & upper) | (self.mt[(k + 1) % self.n] & lower)
                self.mt[k] = self.mt[(k + self.m) % self.n] ^ (y >> 1) ^ (self.a if y & 1 else 0)
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= (y >> self.u) & self.d
        y ^= (y << self.s) & self.b
        y ^= (y << self.t) & self.c
        y ^= y >> self.l
        return y & MASK64


def seed_seq_generate(v, n):
    """std::seed_seq::generate ([rand.util.seedseq])."""
    s = len(v)
    b = [0x8B8B8B8B] * n
    t = 11 if n >= 623 else 7 if n >= 68 else 5 if n >= 39 else 3 if n >= 7 else (n - 1) // 2
    p = (n - t) // 2
    q = p + t
    m = max(s + 1, n)
    T = lambda x: (x ^ (x >> 27)) & MASK32
    for k in range(m):
        r1 = (1664525 * T(b[k % n] ^ b[(k + p) % n] ^ b[(k - 1) % n])) & MASK32
        if k == 0:
            r2 = (r1 + s) & MASK32
        elif k <= s:
            r2 = (r1 + k % n + v[k - 1]) & MASK32
        else:
            r2 = (r1 + k % n) & MASK32
        b[(k + p) % n] = (b[(k + p) % n] + r1) & MASK32
        b[(k + q) % n] = (b[(k + q) % n] + r2) & MASK32
        b[k % n] = r2
    for k in range(m, m + n):
        r3 = (1566083941 * T((b[k % n] + b[(k + p) % n] + b[(k - 1) % n]) & MASK32)) & MASK32
        r4 = (r3 - k % n) & MASK32
        b[(k + p) % n] ^= r3
        b[(k + q) % n] ^= r4
        b[k % n] = r4
    return b


def uniform_below(n, rng):
    bits = (n - 1).bit_length()
    if bits == 0:
        return 0
    words = (bits + 63) // 64
    while True:
        x = 0
        for w in range(words):
            x |= rng() << (64 * w)
        x &= (1 << bits) - 1
        if x < n:
            return x


def round_half_away(x):
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def masks(L, H, s, samples, seed, min_kept):
    k = round_half_away(s * (L * H))
    cap = H - min_kept
    W = [[0] * (k + 1) for _ in range(L + 1)]
    W[L][0] = 1
    for l in range(L - 1, -1, -1):
        for r in range(k + 1):
            W[l][r] = sum(math.comb(H, j) * W[l + 1][r - j] for j in range(min(cap, r) + 1))
    seed &= MASK64
    rng = MT19937_64.from_seed_seq([seed & MASK32, seed >> 32, k])
    out, seen = [], set()
    while len(out) < samples:
        mask = [1] * (L * H)
        r = k
        for l in range(L):
            u = uniform_below(W[l][r], rng)
            j = 0
            while True:
                w = math.comb(H, j) * W[l + 1][r - j]
                if u < w:
                    break
                u -= w
                j += 1
            order = list(range(H))
            for i in range(j):
                t = i + uniform_below(H - i, rng)
                order[i], order[t] = order[t], order[i]
                mask[l * H + order[i]] = 0
            r -= j
        key = "".join(map(str, mask))
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        g = MT19937_64.from_int(5489)
        for _ in range(9999):
            g()
        assert g() == 9981545732273789042, "mt19937_64 10000th output"
        print("ok")
        return
    L, H = int(sys.argv[1]), int(sys.argv[2])
    s = float(sys.argv[3])
    samples, seed, min_kept = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    for m in masks(L, H, s, samples, seed, min_kept):
        print(m)


if __name__ == "__main__":
    main()
