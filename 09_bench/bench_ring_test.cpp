// bench_ring_test.cpp
#include <gtest/gtest.h>
