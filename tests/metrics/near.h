#pragma once
// Absolute tolerance for values the tests work out by hand; Catch's Approx is relative by default
// and far looser.
#include <catch2/catch.hpp>

inline Approx exactly(double v) { return Approx(v).epsilon(0).margin(1e-12); }
